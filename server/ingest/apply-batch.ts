import type { AccountSeen } from '../db/accounts.js';
import type { Db } from '../db/database.js';
import { type InboundEventRow, insertInboundEvents } from '../db/inbound-events.js';
import { transaction } from '../db/transaction.js';
import { applyAccountStatus } from './apply-account-status.js';
import { applyChatActivity, applyFollowUp, applyNewMessages } from './apply-messages.js';
import { Envelopes, type Published, publishEnvelopes } from './envelopes.js';
import type { IngestEvent, MessageEvent } from './events.js';
import type { KnownAccounts } from './known-accounts.js';

/** A webhook body after parsing and validation, ready for its batch. */
export type IngestItem =
  | { outcome: 'accepted'; rawBody: string; event: IngestEvent; dedupeKey: string | null }
  | {
      outcome: 'rejected';
      rawBody: string;
      eventName: string | null;
      accountId: string | null;
      error: { code: string; issues?: unknown; reason?: string };
    };

export type ItemResult = 'accepted' | 'duplicate' | 'rejected';

export interface BatchOutcome extends Published {
  results: ItemResult[];
  /** Accounts whose details the batch wrote (see KnownAccounts). */
  accountsWritten: AccountSeen[];
}

export interface ApplyOptions {
  provider: string;
  /** An identical account status within this many seconds of the last one is a duplicate. */
  statusDedupeSeconds: number;
  /** Accounts this instance already wrote, whose upsert a batch can skip. */
  knownAccounts: KnownAccounts;
}

function inboundRow(item: IngestItem, provider: string): InboundEventRow {
  if (item.outcome === 'rejected') {
    return {
      provider,
      event: item.eventName,
      dedupeKey: null,
      accountId: item.accountId,
      status: 'rejected',
      rawBody: item.rawBody,
      error: item.error,
    };
  }
  return {
    provider,
    event: item.event.kind === 'message' ? item.event.event : 'account_status',
    dedupeKey: item.dedupeKey,
    accountId: item.event.accountId,
    status: 'accepted',
    rawBody: item.rawBody,
  };
}

/**
 * Applies a batch of webhooks in ONE transaction: records every body, drops duplicates (by the
 * unique dedupe key, so concurrent batches and instances agree), applies new messages in bulk
 * and follow-ups in arrival order, enqueues outbound deliveries, and appends realtime envelopes
 * last (see appendRealtimeEvents). Nothing is visible to anyone until the whole batch commits.
 */
export async function applyBatch(db: Db, items: IngestItem[], options: ApplyOptions): Promise<BatchOutcome> {
  return transaction(db, async (tx) => {
    const results: ItemResult[] = items.map((item) =>
      item.outcome === 'rejected' ? 'rejected' : 'accepted',
    );
    const envelopes = new Envelopes();

    // The same event twice in one batch: the later copies are duplicates of the first.
    const firstByKey = new Map<string, number>();
    items.forEach((item, index) => {
      if (item.outcome !== 'accepted' || item.dedupeKey === null) return;
      if (firstByKey.has(item.dedupeKey)) results[index] = 'duplicate';
      else firstByKey.set(item.dedupeKey, index);
    });

    // Account statuses have no id: a duplicate is the account's current status, seen recently.
    for (const [index, item] of items.entries()) {
      if (item.outcome !== 'accepted' || item.event.kind !== 'account_status') continue;
      const applied = await applyAccountStatus(tx, item.event, options, envelopes);
      if (!applied) results[index] = 'duplicate';
    }

    const toRecord = items.filter((_item, index) => results[index] !== 'duplicate');
    const newKeys = await insertInboundEvents(
      tx,
      toRecord.map((item) => inboundRow(item, options.provider)),
    );
    const messageEvents: { index: number; event: MessageEvent }[] = [];
    items.forEach((item, index) => {
      if (results[index] !== 'accepted' || item.outcome !== 'accepted' || item.event.kind !== 'message')
        return;
      if (item.dedupeKey !== null && !newKeys.has(item.dedupeKey)) results[index] = 'duplicate';
      else messageEvents.push({ index, event: item.event });
    });

    const applied = await applyNewMessages(
      tx,
      messageEvents.map(({ event }) => event).filter((event) => event.event === 'message_received'),
      envelopes,
      options.knownAccounts,
    );
    for (const { event } of messageEvents) {
      if (event.event !== 'message_received') await applyFollowUp(tx, event, envelopes);
    }
    await applyChatActivity(tx, applied.chats);
    return { results, accountsWritten: applied.accountsWritten, ...(await publishEnvelopes(tx, envelopes)) };
  });
}
