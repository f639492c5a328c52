import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from '../../drizzle/schema.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { restrictTreeToOwner } from './owner-only.js';

export type Schema = typeof schema;

/** The drizzle handle every query function takes: the same type on PGlite and on node-postgres. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/**
 * A transaction handle; query functions accept either this or {@link Db}. The relations
 * parameter must match what `Db.transaction` passes its callback, or no real tx would fit.
 */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type Executor = Db | Tx;

export type DatabaseKind = 'pglite' | 'postgres';

/** What Hookline needs from a database, whichever engine is behind it. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** The pool, when `kind` is `postgres`: for LISTEN on a dedicated connection. */
  readonly pool?: pg.Pool;
  /** The embedded instance, when `kind` is `pglite`. */
  readonly pglite?: PGlite;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  kind: 'postgres';
  /** `postgres://` connection string. */
  url: string;
  /** Maximum pooled connections. Default 10. */
  poolSize?: number;
  /** How long a query waits for a free or new connection before failing. Default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Called with errors of idle pooled connections (a restarted server, say), which are otherwise fatal. */
  onPoolError?: (error: Error) => void;
}

export interface PgliteOptions {
  kind: 'pglite';
  /**
   * Directory of the embedded database, created if missing, or `memory://` for a throwaway one.
   * A directory is locked against a second process opening it (PGlite is single-process).
   */
  dataDir: string;
  /** A data directory tarball (from `dumpDataDir`) to start from, used by tests' templates. */
  loadDataDir?: Blob | File;
}

export type OpenDatabaseOptions = PostgresOptions | PgliteOptions;

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.kind === 'postgres' ? openPostgres(options) : openPglite(options);
}

async function openPostgres(options: PostgresOptions): Promise<Database> {
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
  const db = drizzleNodePg(pool, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    pool,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
}

async function openPglite(options: PgliteOptions): Promise<Database> {
  const inMemory = options.dataDir.startsWith('memory://');
  let releaseLock = async () => {};
  if (!inMemory) {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    releaseLock = await acquireDataDirLock(`${options.dataDir}.lock`);
  }
  try {
    const pglite = await PGlite.create(
      options.dataDir,
      options.loadDataDir ? { loadDataDir: options.loadDataDir } : {},
    );
    const db = drizzlePglite(pglite, { schema }) as unknown as Db;
    if (!inMemory) await restrictTreeToOwner(options.dataDir);
    return {
      kind: 'pglite',
      db,
      pglite,
      ping: async () => {
        if (pglite.closed) throw new Error('the embedded database is closed');
        await db.execute(sql`select 1`);
      },
      close: async () => {
        if (!pglite.closed) await pglite.close();
        if (!inMemory) await restrictTreeToOwner(options.dataDir);
        await releaseLock();
      },
    };
  } catch (error) {
    await releaseLock();
    throw error;
  }
}
