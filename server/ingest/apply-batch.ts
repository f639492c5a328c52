import type { AccountSeen } from '../db/accounts.js';
import type { Db } from '../db/database.js';
import {
  type InboundEventRow,
  type IngestBatch,
  ingestMessages,
  ingestReceived,
  type ReceivedMessage,
} from '../db/ingest-messages.js';
import { transaction } from '../db/transaction.js';
import {
  Envelopes,
  EVENT_TYPES,
  type Published,
  publishEnvelopes,
  sqlBuiltMessageData,
} from '../events/index.js';
import type { IngestEvent, MessageEvent } from '../providers/events.js';
import { applyAccountStatus } from './apply-account-status.js';
import { accountsOf, applyFollowUp, receivedMessage } from './apply-messages.js';
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
    }
  | {
      outcome: 'ignored';
      rawBody: string;
      eventName: string | null;
      accountId: string | null;
      /** The provider source Hookline does not handle (see parseUnipileWebhook). */
      source: string;
    };

/** How ingest took one item: stored, already stored, refused as invalid, or from an unhandled source. */
export type ItemResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

/** What a batch's transaction did: one result per item, and what it owes the outboxes. */
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

function inboundRow(item: IngestItem, provider: string): InboundEventRow {
  if (item.outcome !== 'accepted') {
    return {
      provider,
      event: item.eventName,
      dedupeKey: null,
      accountId: item.accountId,
      status: item.outcome,
      rawBody: item.rawBody,
      ...(item.outcome === 'rejected' ? { error: item.error } : {}),
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
 * Results known before the database is asked: rejected and ignored bodies, and repeats within the
 * batch: the same event twice, or a second `message_received` for one message (under another key,
 * as a retry straddling an upgrade of the key has), which the database would refuse to store twice.
 */
function initialResults(items: IngestItem[]): ItemResult[] {
  const results: ItemResult[] = items.map((item) =>
    item.outcome === 'accepted' ? 'accepted' : item.outcome,
  );
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (item.outcome !== 'accepted' || item.dedupeKey === null) return;
    const message =
      item.event.kind === 'message' && item.event.event === 'message_received'
        ? JSON.stringify([item.event.accountId, item.event.messageId])
        : null;
    if (seen.has(item.dedupeKey) || (message !== null && seen.has(message))) {
      results[index] = 'duplicate';
      return;
    }
    seen.add(item.dedupeKey);
    if (message !== null) seen.add(message);
  });
  return results;
}

/** The item's message event and dedupe key, if the item is a message still counted as accepted. */
function acceptedMessage(
  item: IngestItem,
  result: ItemResult | undefined,
): { event: MessageEvent; dedupeKey: string | null } | undefined {
  if (result !== 'accepted' || item.outcome !== 'accepted' || item.event.kind !== 'message') return undefined;
  return { event: item.event, dedupeKey: item.dedupeKey };
}

/**
 * What ingestMessages and ingestReceived take: every body that is not a repeat, the accounts with
 * new details, and the `message_received` events still accepted, in arrival order.
 */
function ingestBatch(items: IngestItem[], results: ItemResult[], options: ApplyOptions): IngestBatch {
  const received: ReceivedMessage[] = [];
  const events: MessageEvent[] = [];
  const receivedAt = new Date();
  items.forEach((item, index) => {
    const message = acceptedMessage(item, results[index]);
    if (message?.event.event !== 'message_received' || message.dedupeKey === null) return;
    events.push(message.event);
    received.push(receivedMessage(message.event, message.dedupeKey, receivedAt));
  });
  return {
    inbound: items
      .filter((_item, index) => results[index] !== 'duplicate')
      .map((item) => inboundRow(item, options.provider)),
    accounts: options.knownAccounts.unseen(accountsOf(events, options.provider)),
    messages: received,
  };
}

/**
 * Marks each message event whose dedupe key the database did not record, or did not apply (a
 * `message_received` for a message already stored), as a duplicate.
 * @returns the message events that were new, in arrival order.
 */
function settleMessageEvents(
  items: IngestItem[],
  results: ItemResult[],
  newKeys: Set<string>,
): MessageEvent[] {
  const fresh: MessageEvent[] = [];
  items.forEach((item, index) => {
    const message = acceptedMessage(item, results[index]);
    if (!message) return;
    if (message.dedupeKey !== null && !newKeys.has(message.dedupeKey)) results[index] = 'duplicate';
    else fresh.push(message.event);
  });
  return fresh;
}

/** The envelope types of a new message, for Postgres to publish under (see ingestReceived). */
const NEW_MESSAGE_TYPES = { realtime: 'message:new', outbound: EVENT_TYPES['message:new'] } as const;

/** Whether every accepted item is a new message, so the whole batch is one statement. */
const onlyReceived = (items: IngestItem[]) =>
  items.every(
    (item) =>
      item.outcome !== 'accepted' ||
      (item.event.kind === 'message' && item.event.event === 'message_received'),
  );

/**
 * Applies a batch of webhooks atomically: records every body, drops duplicates (by the unique
 * dedupe key, so concurrent batches and instances agree), applies new messages in bulk and
 * follow-ups in arrival order, enqueues outbound deliveries, and appends realtime envelopes last
 * (see publishEnvelopes). Nothing is visible to anyone until the whole batch commits.
 *
 * Every batch records its bodies and new messages through the one `hookline_ingest_received`
 * call, which fills in placeholders and builds each new message's envelope from the row as
 * stored. A batch of only new messages (the usual traffic) is that one statement; account
 * statuses and follow-ups add their statements around it, in one transaction.
 */
export async function applyBatch(db: Db, items: IngestItem[], options: ApplyOptions): Promise<BatchOutcome> {
  const results = initialResults(items);
  if (onlyReceived(items)) {
    const batch = ingestBatch(items, results, options);
    const { newKeys, ...published } = await ingestReceived(db, batch, NEW_MESSAGE_TYPES);
    settleMessageEvents(items, results, newKeys);
    return { results, accountsWritten: batch.accounts, ...published };
  }
  return transaction(db, async (tx) => {
    const envelopes = new Envelopes();

    // Account statuses have no id: a duplicate is the account's current status, seen recently.
    for (const [index, item] of items.entries()) {
      if (item.outcome !== 'accepted' || item.event.kind !== 'account_status') continue;
      const applied = await applyAccountStatus(tx, item.event, options, envelopes);
      if (!applied) results[index] = 'duplicate';
    }

    const batch = ingestBatch(items, results, options);
    const { newKeys, newMessages } = await ingestMessages(tx, batch);
    for (const message of newMessages) {
      envelopes.add('message:new', message.accountId, sqlBuiltMessageData(message.data));
    }
    for (const event of settleMessageEvents(items, results, newKeys)) {
      if (event.event !== 'message_received') await applyFollowUp(tx, event, envelopes);
    }
    return { results, accountsWritten: batch.accounts, ...(await publishEnvelopes(tx, envelopes)) };
  });
}
