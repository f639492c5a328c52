import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../server/db/database.js';
import { applyMigrations } from '../../../server/db/migrate.js';
import { queryRows } from '../../../server/db/rows.js';
import { describePostgres, requireTestDatabaseUrl } from '../../support/databases.js';
import { urlForDatabase, withAdmin } from '../../support/postgres-admin.js';

const EXPECTED_TABLES = [
  'accounts',
  'chats',
  'deliveries',
  'delivery_attempts',
  'endpoints',
  'inbound_events',
  'messages',
  'outbound_pauses',
  'realtime_events',
  'sync_accounts',
  'sync_runs',
];

async function tables(database: Database): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    database.db,
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  );
  return rows.map((row) => row.table_name);
}

async function appliedCount(database: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return row!.n;
}

describe('migrations on PGlite', () => {
  it('create the schema on a fresh data directory, and are a no-op the second time', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'hookline-migrate-')), 'pglite');
    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await applyMigrations(database);
      const applied = await appliedCount(database);
      await applyMigrations(database);
      expect(await appliedCount(database)).toBe(applied);
      expect(await tables(database)).toEqual(EXPECTED_TABLES);
    } finally {
      await database.close();
    }
  });

  it('refuse a second process-level open of the same data directory while the first is open', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'hookline-lock-')), 'pglite');
    const first = await openDatabase({ kind: 'pglite', dataDir });
    try {
      // The lock holds the pid: pretend another live process (our parent) owns it.
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${dataDir}.lock`, String(process.ppid));
      await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toMatchObject({
        code: 'HL_ERR_CONFIG',
      });
    } finally {
      await first.close();
    }
  });
});

describePostgres('migrations on Postgres', () => {
  it('are safe when two instances start at once', async () => {
    const serverUrl = requireTestDatabaseUrl();
    const name = `hl_t_${process.pid}_migrate_race`;
    await withAdmin(serverUrl, async (admin) => {
      await admin.execute(sql`drop database if exists ${sql.identifier(name)} with (force)`);
      await admin.execute(sql`create database ${sql.identifier(name)}`);
    });
    const url = urlForDatabase(serverUrl, name);
    const a = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    const b = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    try {
      await Promise.all([applyMigrations(a), applyMigrations(b)]);
      expect(await tables(a)).toEqual(EXPECTED_TABLES);
      const applied = await appliedCount(a);
      await applyMigrations(b);
      expect(await appliedCount(a)).toBe(applied);
    } finally {
      await a.close();
      await b.close();
      await withAdmin(serverUrl, (admin) =>
        admin.execute(sql`drop database if exists ${sql.identifier(name)} with (force)`),
      );
    }
  });
});
