import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
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
  'login_codes',
  'messages',
  'outbound_pauses',
  'read_marks',
  'realtime_events',
  'realtime_sessions',
  'send_attachments',
  'send_budgets',
  'send_requests',
  'sends',
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

/** An empty database of its own on the run's server, dropped by the returned function. */
async function emptyDatabase(suffix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = requireTestDatabaseUrl();
  const name = `hl_t_${process.pid}_${suffix}`;
  await withAdmin(serverUrl, async (admin) => {
    await admin.execute(sql`drop database if exists ${sql.identifier(name)} with (force)`);
    await admin.execute(sql`create database ${sql.identifier(name)}`);
  });
  return {
    url: urlForDatabase(serverUrl, name),
    drop: () =>
      withAdmin(serverUrl, async (admin) => {
        await admin.execute(sql`drop database if exists ${sql.identifier(name)} with (force)`);
      }),
  };
}

describePostgres('migrations on Postgres', () => {
  it('create the schema on an empty database, and are a no-op the second time', async () => {
    const empty = await emptyDatabase('migrate_fresh');
    const database = await openDatabase({ url: empty.url, poolSize: 2 });
    try {
      await applyMigrations(database);
      const applied = await appliedCount(database);
      await applyMigrations(database);
      expect(await appliedCount(database)).toBe(applied);
      expect(await tables(database)).toEqual(EXPECTED_TABLES);
    } finally {
      await database.close();
      await empty.drop();
    }
  });

  it('are safe when two instances start at once', async () => {
    const empty = await emptyDatabase('migrate_race');
    const a = await openDatabase({ url: empty.url, poolSize: 2 });
    const b = await openDatabase({ url: empty.url, poolSize: 2 });
    try {
      await Promise.all([applyMigrations(a), applyMigrations(b)]);
      expect(await tables(a)).toEqual(EXPECTED_TABLES);
      const applied = await appliedCount(a);
      await applyMigrations(b);
      expect(await appliedCount(a)).toBe(applied);
    } finally {
      await a.close();
      await b.close();
      await empty.drop();
    }
  });
});
