import type { Db, Tx } from '../db/database.js';
import { transaction } from '../db/transaction.js';
import { Envelopes, newMessageData, type Published } from '../events/index.js';
import { publish } from '../outbound/index.js';
import { applyAccountStatus } from './apply-account-status.js';
import { repeatsInBatch } from './dedupe.js';
import { applyFollowUp } from './follow-ups.js';
import type { IngestItem, ItemResult } from './items.js';
import type { KnownAccounts } from './known-accounts.js';
import type { AccountSeen } from './queries/accounts.js';
import { store } from './queries/store.js';

/** What a batch's transaction did: one result per item, and what it published. */
export interface BatchOutcome extends Published {
  results: ItemResult[];
  /** Accounts whose details the batch wrote (see KnownAccounts). */
  accountsWritten: AccountSeen[];
}

/** The provider and dedupe settings a batch is applied with. */
export interface ApplyOptions {
  /** The provider the items came from, stored on each inbound event row. */
  provider: string;
  /** An identical account status within this many seconds of the last one is a duplicate. */
  statusDedupeSeconds: number;
  /** Accounts this instance already wrote, whose upsert a batch can skip. */
  knownAccounts: KnownAccounts;
}

/**
 * Applies a batch of webhooks in one transaction, in which nothing is visible to anyone until the
 * whole batch commits: account statuses first (each its own statement, under its account's row
 * lock), then the store (one statement: every body recorded, duplicates dropped by the unique
 * dedupe key, new messages stored, placeholders filled in, chats bumped), the new messages'
 * `message:new` rendered from the rows as stored, follow-ups (edits, reactions, reads, deletions)
 * applied in arrival order, and everything published last (see publish). A batch of only new
 * messages, the usual traffic, is two statements: the store and the publication.
 */
export function applyBatch(db: Db, items: IngestItem[], options: ApplyOptions): Promise<BatchOutcome> {
  return transaction(db, (tx) => applyItems(tx, items, options));
}

async function applyItems(tx: Tx, items: IngestItem[], options: ApplyOptions): Promise<BatchOutcome> {
  const results = repeatsInBatch(items);
  const envelopes = new Envelopes();

  // Account statuses have no id: a duplicate is the account's current status, seen recently.
  for (const [index, item] of items.entries()) {
    if (item.outcome !== 'accepted' || item.event.kind !== 'account_status') continue;
    const applied = await applyAccountStatus(tx, item.event, options, envelopes);
    if (!applied) results[index] = 'duplicate';
  }

  const { accountsWritten, stored, followUps } = await store(tx, items, options, results);
  for (const message of stored) envelopes.add('message:new', message.accountId, newMessageData(message));
  for (const event of followUps) await applyFollowUp(tx, event, envelopes);
  return { results, accountsWritten, ...(await publish(tx, envelopes)) };
}
