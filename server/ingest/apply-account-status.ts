import type { Tx } from '../db/database.js';
import type { Envelopes } from '../events/index.js';
import type { AccountStatusEvent } from '../providers/events.js';
import { lockAccountStatus, updateAccountStatus } from './queries/accounts.js';

/**
 * Applies an account status webhook. Such payloads carry no id, so "duplicate" means: the same
 * status as the account's current one, received within the dedupe window. Comparing with the
 * CURRENT status (not any earlier one) keeps OK → ERROR → OK correct, and the row lock makes the
 * check race-free across concurrent batches and instances.
 *
 * @returns false when the webhook was a duplicate and nothing changed.
 */
export async function applyAccountStatus(
  tx: Tx,
  event: AccountStatusEvent,
  options: { provider: string; statusDedupeSeconds: number },
  envelopes: Envelopes,
): Promise<boolean> {
  const current = await lockAccountStatus(tx, {
    id: event.accountId,
    provider: options.provider,
    accountType: event.accountType,
    userId: null,
  });
  const recent =
    current.statusReceivedAt !== null &&
    Date.now() - current.statusReceivedAt.getTime() < options.statusDedupeSeconds * 1000;
  if (current.status === event.status && recent) return false;
  await updateAccountStatus(tx, event.accountId, event.status, event.accountType);
  envelopes.add('account:status', event.accountId, {
    accountId: event.accountId,
    accountType: event.accountType,
    status: event.status,
  });
  return true;
}
