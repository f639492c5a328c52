import { join } from 'node:path';
import pg from 'pg';
import { type Database, openDatabase, type PostgresOptions } from '../database.js';
import { EmbeddedCluster } from './cluster.js';

/** The database Hookline uses on its embedded cluster (`postgres` stays the maintenance one). */
export const EMBEDDED_DATABASE_NAME = 'hookline';

/** The cluster's directory inside DATA_DIR. */
export const embeddedClusterDirectory = (dataDir: string) => join(dataDir, 'postgres');

/** Options of the embedded cluster, used when DATABASE_URL is unset; pool options as for Postgres. */
export interface EmbeddedDatabaseOptions extends Omit<PostgresOptions, 'url' | 'kind'> {
  /** DATA_DIR: the cluster lives in its `postgres` folder. */
  dataDir: string;
  /** Called for each lifecycle step worth a log line. */
  onEvent?: (message: string, details: Record<string, unknown>) => void;
}

/** A {@link Database} on an embedded cluster this process runs; `close()` also stops the server. */
export interface EmbeddedDatabase extends Database {
  readonly cluster: EmbeddedCluster;
  /** Connection string of the `hookline` database (a Unix socket in the cluster's directory). */
  readonly url: string;
}

/**
 * Starts (first: initialises) the embedded cluster in `DATA_DIR/postgres`, creates the `hookline`
 * database when missing, and opens a pool on it exactly as on any server.
 */
export async function openEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const { dataDir, onEvent, ...poolOptions } = options;
  const cluster = new EmbeddedCluster({
    directory: embeddedClusterDirectory(dataDir),
    // The pool plus the LISTEN connections and room for a psql or pg_dump beside them.
    settings: { max_connections: String(Math.max(100, (poolOptions.poolSize ?? 10) + 20)) },
    ...(onEvent ? { onEvent } : {}),
  });
  const began = performance.now();
  const { initialised } = await cluster.start();
  onEvent?.('embedded Postgres started', {
    directory: cluster.directory,
    initialised,
    ms: Math.round(performance.now() - began),
  });
  try {
    await createDatabaseIfMissing(cluster.url('postgres'), EMBEDDED_DATABASE_NAME);
    const url = cluster.url(EMBEDDED_DATABASE_NAME);
    const database = await openDatabase({ ...poolOptions, url });
    return {
      ...database,
      cluster,
      url,
      close: async () => {
        try {
          await database.close();
        } finally {
          await cluster.stop();
        }
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
