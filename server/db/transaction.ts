import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { type BatchFailures, retryConflicts } from '../shared/group-commit.js';
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
 * How a group commit whose batches are transactions tells failures apart: a conflict (deadlock,
 * serialization failure) is flushed again, up to 3 tries in all; an outage (a conflict that
 * outlasts them included) fails the batch as it is, never isolated item by item.
 */
export const transactionBatches = {
  conflictRetries: 2,
  isConflict: isTransactionConflict,
  isUnavailable: isDatabaseUnavailable,
} as const satisfies BatchFailures;

/**
 * Runs `attempt` again (up to 3 times in all) while it fails with a transaction conflict
 * (deadlock, serialization failure): the work lost a race and can succeed at once.
 */
export function withConflictRetry<T>(attempt: () => Promise<T>): Promise<T> {
  return retryConflicts(attempt, transactionBatches);
}
