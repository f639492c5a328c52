import { eq, sql } from 'drizzle-orm';
import { accounts } from '../../drizzle/schema.js';
import type { Tx } from './database.js';
import { recordsetRows } from './recordset.js';

export interface AccountSeen {
  id: string;
  provider: string;
  accountType: string | null;
  userId: string | null;
}

/**
 * Creates the accounts a batch mentions and learns their type and own user id. Rows are sorted
 * so concurrent batches lock them in the same order (no deadlock); unchanged rows are not rewritten.
 */
export async function upsertAccountsSeen(tx: Tx, rows: AccountSeen[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await tx
    .insert(accounts)
    .select(recordsetRows(accounts, sorted).source)
    .onConflictDoUpdate({
      target: accounts.id,
      set: {
        accountType: sql`coalesce(excluded.account_type, ${accounts.accountType})`,
        userId: sql`coalesce(excluded.user_id, ${accounts.userId})`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`excluded.user_id is distinct from ${accounts.userId} and excluded.user_id is not null
        or excluded.account_type is distinct from ${accounts.accountType} and excluded.account_type is not null`,
    });
}

export interface LockedAccountStatus {
  status: string | null;
  statusReceivedAt: Date | null;
}

/** Creates the account if needed and locks its row, serialising status updates for it. */
export async function lockAccountStatus(tx: Tx, account: AccountSeen): Promise<LockedAccountStatus> {
  await tx.insert(accounts).values(account).onConflictDoNothing({ target: accounts.id });
  const [row] = await tx
    .select({ status: accounts.status, statusReceivedAt: accounts.statusReceivedAt })
    .from(accounts)
    .where(eq(accounts.id, account.id))
    .for('update');
  return row ?? { status: null, statusReceivedAt: null };
}

export async function updateAccountStatus(
  tx: Tx,
  accountId: string,
  status: string,
  accountType: string | null,
): Promise<void> {
  await tx
    .update(accounts)
    .set({
      status,
      statusReceivedAt: sql`now()`,
      accountType: sql`coalesce(${accountType}, ${accounts.accountType})`,
      updatedAt: sql`now()`,
    })
    .where(eq(accounts.id, accountId));
}
