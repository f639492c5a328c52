import type { AccountSeen } from '../db/accounts.js';
import type { Db } from '../db/database.js';
import { type InboundEventRow, ingestMessages } from '../db/ingest-messages.js';
import { transaction } from '../db/transaction.js';
import { applyAccountStatus } from './apply-account-status.js';
import { accountsOf, addNewMessageEnvelopes, applyFollowUp, receivedMessage } from './apply-messages.js';
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
 * last (see publishEnvelopes). Nothing is visible to anyone until the whole batch commits.
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

    // Every body is recorded; received messages are applied in the same round trip, but only
    // those whose dedupe key turns out to be new (see ingestMessages).
    const received: { event: MessageEvent; dedupeKey: string }[] = [];
    items.forEach((item, index) => {
      if (results[index] !== 'accepted' || item.outcome !== 'accepted' || item.event.kind !== 'message')
        return;
      if (item.event.event === 'message_received' && item.dedupeKey !== null)
        received.push({ event: item.event, dedupeKey: item.dedupeKey });
    });
    const receivedAt = new Date();
    const accountsWritten = options.knownAccounts.unseen(accountsOf(received.map(({ event }) => event)));
    const { newKeys, stored } = await ingestMessages(tx, {
      inbound: items
        .filter((_item, index) => results[index] !== 'duplicate')
        .map((item) => inboundRow(item, options.provider)),
      accounts: accountsWritten,
      messages: received.map(({ event, dedupeKey }) => receivedMessage(event, dedupeKey, receivedAt)),
    });

    const messageEvents: MessageEvent[] = [];
    items.forEach((item, index) => {
      if (results[index] !== 'accepted' || item.outcome !== 'accepted' || item.event.kind !== 'message')
        return;
      if (item.dedupeKey !== null && !newKeys.has(item.dedupeKey)) results[index] = 'duplicate';
      else messageEvents.push(item.event);
    });
    addNewMessageEnvelopes(
      messageEvents.filter((event) => event.event === 'message_received'),
      stored,
      envelopes,
    );
    for (const event of messageEvents) {
      if (event.event !== 'message_received') await applyFollowUp(tx, event, envelopes);
    }
    return { results, accountsWritten, ...(await publishEnvelopes(tx, envelopes)) };
  });
}
