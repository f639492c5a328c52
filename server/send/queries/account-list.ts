import { asc, inArray } from 'drizzle-orm';
import { accounts } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';

/** A row of `accounts`, as drizzle reads it. */
export type AccountRecord = typeof accounts.$inferSelect;

/** Accounts by id, all of them or those in `accountIds` (an empty list gives none). */
export function listAccounts(executor: Executor, accountIds?: readonly string[]): Promise<AccountRecord[]> {
  const query = executor.select().from(accounts);
  if (accountIds === undefined) return query.orderBy(asc(accounts.id));
  if (accountIds.length === 0) return Promise.resolve([]);
  return query.where(inArray(accounts.id, [...accountIds])).orderBy(asc(accounts.id));
}
