import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../server/db/database.js';
import { applyMigrations } from '../../server/db/migrate.js';
import { testEnv } from './env.js';
import { ensurePostgresTemplate } from './postgres-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of a migrated PGlite data directory: each test file starts from it. */
    pgliteTemplatePath: string;
    /** The migrated Postgres template database, or '' when TEST_DATABASE_URL is unset. */
    postgresTemplate: string;
  }
}

/**
 * Runs once per `vitest run`: migrates one PGlite and dumps it (loading the dump takes well under
 * a second, a fresh PGlite plus migrations several), and makes sure the Postgres template exists.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(join(tmpdir(), 'hookline-test-'));
  const pgliteTemplatePath = join(directory, 'pglite-template.tar');
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
  try {
    await applyMigrations(database);
    const dump = await database.pglite!.dumpDataDir('none');
    await writeFile(pgliteTemplatePath, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await database.close();
  }
  project.provide('pgliteTemplatePath', pgliteTemplatePath);

  let postgresTemplate = '';
  if (testEnv.databaseUrl) {
    postgresTemplate = await ensurePostgresTemplate(testEnv.databaseUrl);
  } else if (testEnv.ci) {
    throw new Error('CI=true but TEST_DATABASE_URL is not set: the Postgres half of the suite cannot run');
  } else {
    process.stdout.write(
      '\n  TEST_DATABASE_URL is not set: tests run on embedded PGlite only; Postgres-only tests are skipped.\n' +
        '  Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run them on real Postgres too.\n\n',
    );
  }
  project.provide('postgresTemplate', postgresTemplate);
  return async () => {
    await rm(directory, { recursive: true, force: true });
  };
}
