import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type Database, openDatabase } from '../../server/db/database.js';
import { createPostgresTestDatabase } from './postgres-admin.js';

/** The engines a test can run on: one, Postgres (a server, or the run's embedded cluster). */
export type TestDatabaseKind = 'postgres';

/**
 * The databases this run covers, for `describe.each(testDatabaseKinds())`: Postgres, on
 * TEST_DATABASE_URL's server or on the embedded cluster test/support/global-setup.ts starts.
 */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return ['postgres'];
}

/** `describe` for behaviour that needs a real server (LISTEN, outages, many instances): always on. */
export const describePostgres = describe;

export interface TestDatabase {
  kind: TestDatabaseKind;
  database: Database;
  /** Connection string of this file's own database. */
  url: string;
  /** Closes the handle and drops the file's database. */
  dispose(): Promise<void>;
}

/** The run's Postgres server: TEST_DATABASE_URL, or the embedded cluster started for the run. */
export function requireTestDatabaseUrl(): string {
  return inject('testDatabaseUrl');
}

/** Opens a database of its own for one test file, migrated from the run's template. */
export async function openTestDatabase(kind: TestDatabaseKind = 'postgres'): Promise<TestDatabase> {
  const created = await createPostgresTestDatabase(requireTestDatabaseUrl(), inject('postgresTemplate'));
  const database = await openDatabase({ url: created.url, poolSize: 10 });
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
export function useTestDatabase(kind: TestDatabaseKind = 'postgres'): { readonly current: TestDatabase } {
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
