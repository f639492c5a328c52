import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { openDatabase } from '../../server/db/database.js';
import { applyMigrations } from '../../server/db/migrate.js';
import { postgresTemplateName, TEST_DATABASE_PREFIX } from './template-names.js';

/** Runs `work` with a drizzle handle on one admin connection to the server at `url`. */
type Admin = NodePgDatabase;

export async function withAdmin<T>(url: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(drizzle(client));
  } finally {
    await client.end();
  }
}

/** The same server as `url`, database `name`. */
export function urlForDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function databaseExists(admin: Admin, name: string): Promise<boolean> {
  const result = await admin.execute(sql`select 1 from pg_database where datname = ${name}`);
  return result.rows.length > 0;
}

/**
 * Makes sure the migrated template for the current schema exists. It is built under a temporary
 * name and renamed when complete, so a crashed or concurrent build never leaves a half-made one.
 * Also drops test databases left by processes that no longer run.
 */
export async function ensurePostgresTemplate(url: string): Promise<string> {
  const template = postgresTemplateName();
  await withAdmin(url, async (admin) => {
    const leftovers = await admin.execute(
      sql`select datname from pg_database where datname like ${`${TEST_DATABASE_PREFIX}%`}`,
    );
    for (const row of leftovers.rows as { datname: string }[]) {
      const pid = Number(row.datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0]);
      if (Number.isInteger(pid) && !isAlive(pid)) {
        await admin.execute(sql`drop database if exists ${sql.identifier(row.datname)} with (force)`);
      }
    }
  });
  const exists = await withAdmin(url, (admin) => databaseExists(admin, template));
  if (exists) return template;

  const building = `${template}_build_${process.pid}`;
  await withAdmin(url, (admin) => admin.execute(sql`create database ${sql.identifier(building)}`));
  const database = await openDatabase({ url: urlForDatabase(url, building), poolSize: 2 });
  try {
    await applyMigrations(database);
  } finally {
    await database.close();
  }
  await withAdmin(url, async (admin) => {
    if (await databaseExists(admin, template)) {
      await admin.execute(sql`drop database ${sql.identifier(building)} with (force)`);
    } else {
      await admin.execute(
        sql`alter database ${sql.identifier(building)} rename to ${sql.identifier(template)}`,
      );
    }
  });
  return template;
}

/** Creates a fresh database for one test file from the migrated template; returns its URL and a drop function. */
export async function createPostgresTestDatabase(
  url: string,
  template: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${TEST_DATABASE_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(url, (admin) =>
    admin.execute(sql`create database ${sql.identifier(name)} template ${sql.identifier(template)}`),
  );
  return {
    url: urlForDatabase(url, name),
    name,
    drop: () =>
      withAdmin(url, async (admin) => {
        await admin.execute(sql`drop database if exists ${sql.identifier(name)} with (force)`);
      }),
  };
}
