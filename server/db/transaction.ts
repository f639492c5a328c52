import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Db, Tx } from './database.js';
import { isDatabaseUnavailable, isTransactionConflict } from './unavailable.js';

/**
 * Runs `work` in a transaction. Every transaction in Hookline goes through here, not through
 * `db.transaction`: on a pool, drizzle issues `begin` before its try/finally, so a connection that
 * dies at `begin` is never released, and each outage leaks pooled connections until the pool is
 * exhausted (and `pool.end()` hangs). Here the connection is checked out and released by us, and a
 * broken one is destroyed instead of going back to the pool.
 */
export async function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = (db as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool)) return db.transaction(work);
  const connection = await client.connect();
  let broken: Error | undefined;
  try {
    // Bound to one connection, drizzle runs begin/commit/rollback on it and never releases it.
    return await (drizzleNodePg(connection) as unknown as Db).transaction(work);
  } catch (error) {
    if (isDatabaseUnavailable(error)) broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    connection.release(broken);
  }
}

/**
 * Runs `attempt` again (up to `tries` times in all, default 3) while it fails with a transaction
 * conflict (deadlock, serialization failure): the work lost a race and can succeed at once.
 */
export async function withConflictRetry<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= tries || !isTransactionConflict(error)) throw error;
    }
  }
}
