import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from '../../drizzle/schema.js';

/** The drizzle schema (drizzle/schema.ts), which types every query. */
export type Schema = typeof schema;

/** The drizzle handle every query function takes. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/**
 * A transaction handle; query functions accept either this or {@link Db}. The relations
 * parameter must match what `Db.transaction` passes its callback, or no real tx would fit.
 */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** Either handle: a query function taking this runs alone or inside the caller's transaction. */
export type Executor = Db | Tx;

/** What Hookline needs from its database: a Postgres server, embedded or not. */
export interface Database {
  readonly db: Db;
  /** The pool behind `db`; its options also open dedicated connections (LISTEN). */
  readonly pool: pg.Pool;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How to reach an external Postgres server (DATABASE_URL). */
export interface PostgresOptions {
  /** Accepted for callers that name the engine; Postgres is the only one. */
  kind?: 'postgres';
  /** `postgres://` connection string. */
  url: string;
  /** Maximum pooled connections. Default 10. */
  poolSize?: number;
  /** How long a query waits for a free or new connection before failing. Default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Called with errors of idle pooled connections (a restarted server, say), which are otherwise fatal. */
  onPoolError?: (error: Error) => void;
}

/** Opens a pool on the Postgres server at `options.url`; connections are made on first use. */
export async function openDatabase(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'hookline',
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  // pg-pool removes its own error listener from a client while it is checked out (a drizzle
  // transaction holds one). A connection lost mid-transaction then emits 'error' with no
  // listener, which would crash the process. The query still fails (and the caller answers 503);
  // this listener only keeps the event from being fatal.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onPoolError?.(error));
  });
  const db = drizzle(pool, { schema }) as unknown as Db;
  return {
    db,
    pool,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
}
