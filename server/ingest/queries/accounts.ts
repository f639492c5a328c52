import { eq, sql } from 'drizzle-orm';
import { accounts } from '../../../drizzle/schema.js';
import type { Tx } from '../../db/database.js';

/** An account as a webhook names it: upserted before its events are stored. */
export interface AccountSeen {
  id: string;
  provider: string;
  accountType: string | null;
  userId: string | null;
}

/** The account's last stored status and when it arrived, read under the row lock to dedupe repeats. */
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

/** Stores an account's new status, stamped now; a null `accountType` keeps the stored one. */
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
