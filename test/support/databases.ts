import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type Database, openDatabase } from '../../server/db/database.js';
import { testEnv } from './env.js';
import { createPostgresTestDatabase } from './postgres-admin.js';

export type TestDatabaseKind = 'pglite' | 'postgres';

const postgresWanted = Boolean(testEnv.databaseUrl) || testEnv.ci;

/**
 * The databases this run covers: embedded PGlite always, real Postgres when TEST_DATABASE_URL is
 * set. In CI Postgres is always included, so a missing server fails the run instead of skipping.
 */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return postgresWanted ? ['pglite', 'postgres'] : ['pglite'];
}

/** `describe` for behaviour that only exists on real Postgres (LISTEN, outages, many instances). */
export const describePostgres = describe.skipIf(!postgresWanted);

export interface TestDatabase {
  kind: TestDatabaseKind;
  database: Database;
  /** Connection string of this file's own Postgres database (postgres only). */
  url?: string;
  /** Closes the handle and drops the file's database. */
  dispose(): Promise<void>;
}

/** Postgres connection string for this run; throws a clear error when the service is not configured. */
export function requireTestDatabaseUrl(): string {
  if (!testEnv.databaseUrl) {
    throw new Error('TEST_DATABASE_URL is required for Postgres tests (CI=true makes them mandatory)');
  }
  return testEnv.databaseUrl;
}

/** Opens a database of its own for one test file, migrated from the run's template. */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const dump = await readFile(inject('pgliteTemplatePath'));
    const database = await openDatabase({
      kind: 'pglite',
      dataDir: 'memory://',
      loadDataDir: new Blob([dump]),
    });
    return { kind, database, dispose: () => database.close() };
  }
  const created = await createPostgresTestDatabase(requireTestDatabaseUrl(), inject('postgresTemplate'));
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 10 });
  return {
    kind,
    database,
    url: created.url,
    dispose: async () => {
      await database.close().catch(() => {});
      await created.drop();
    },
  };
}

/** One database for the enclosing `describe`, opened before its tests and dropped after them. */
export function useTestDatabase(kind: TestDatabaseKind): { readonly current: TestDatabase } {
  let current: TestDatabase | undefined;
  beforeAll(async () => {
    current = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await current?.dispose();
  });
  return {
    get current() {
      if (!current) throw new Error('the test database is opened in beforeAll');
      return current;
    },
  };
}
