import { sql } from 'drizzle-orm';
import type { AccountSeen } from './accounts.js';
import type { Db, Tx } from './database.js';
import { hasSqlState } from './error-chain.js';
import type { MessageState } from './messages.js';
import {
  DELIVERIES_CHANNEL,
  outboxRows,
  type Published,
  published,
  REALTIME_APPEND_LOCK,
  REALTIME_CHANNEL,
  type RealtimeEventInput,
} from './outboxes.js';
import { queryRows } from './rows.js';

/** One webhook body as recorded in `inbound_events`. */
export interface InboundEventRow {
  provider: string;
  event: string | null;
  dedupeKey: string | null;
  accountId: string | null;
  status: 'accepted' | 'rejected' | 'ignored';
  rawBody: string;
  error?: unknown;
}

/** A received message, with what it contributes to its chat. */
export interface ReceivedMessage {
  /** The webhook's dedupe key: the message is applied only if this call recorded the key. */
  dedupeKey: string;
  accountId: string;
  id: string;
  chatId: string;
  providerMessageId: string | null;
  text: string | null;
  sender: unknown;
  isSender: boolean;
  attachments: unknown;
  quoted: unknown;
  extra: unknown;
  sentAt: Date;
  providerChatId: string | null;
  accountType: string | null;
  subject: string | null;
  isGroup: boolean | null;
  /** The chat's attendees, or null when the event named none (a bump never erases them). */
  attendees: unknown;
  /** The chat list's preview of this message. */
  preview: string | null;
}

/** A batch of webhooks for {@link ingestMessages} and {@link ingestReceived}. */
export interface IngestBatch {
  /** Every body of the batch, in arrival order (duplicates within the batch left out). */
  inbound: InboundEventRow[];
  /** Accounts whose details this instance has not written yet. */
  accounts: AccountSeen[];
  /** The batch's `message_received` events, in arrival order. */
  messages: ReceivedMessage[];
}

export interface IngestMessagesResult {
  /**
   * The dedupe keys this call recorded and applied: a key it did not record belongs to a
   * duplicate, and so does the key of a received message that was already stored (see
   * {@link appliedKeys}).
   */
  newKeys: Set<string>;
  /** The stored messages, as they are after merging with an out-of-order placeholder. */
  stored: MessageState[];
}

type Stamp = 'sentAt' | 'editedAt' | 'deletedAt' | 'readAt' | 'deliveredAt';
type StoredJson = Omit<MessageState, Stamp> & Record<Stamp, string | null> & { ord: number; merged: boolean };

const date = (value: string | null) => (value === null ? null : new Date(value));

/**
 * The recorded keys, less those of received messages the database did not store: a message is
 * stored once per (account, message id), so a second `message_received` for it under another
 * key (a retry straddling an upgrade of the key, a REST copy) recorded its body but changed
 * nothing, and is a duplicate.
 *
 * @param storedOrds positions in `batch.messages` of the messages stored, from 0.
 */
function appliedKeys(recorded: string[], batch: IngestBatch, storedOrds: Iterable<number>): Set<string> {
  const keys = new Set(recorded);
  const stored = new Set(storedOrds);
  batch.messages.forEach((message, ord) => {
    if (!stored.has(ord)) keys.delete(message.dedupeKey);
  });
  return keys;
}

/**
 * The bodies of a batch as one buffer, UTF-8, back to back, and where each one lies in it. A
 * Buffer parameter travels in binary, so Postgres stores the bodies without parsing them (inside
 * JSON each quote had to be escaped here and unescaped there, character by character).
 */
function packBodies(inbound: InboundEventRow[]): {
  bytes: Buffer;
  spans: { start: number; length: number }[];
} {
  let start = 0;
  const spans = inbound.map((row) => {
    const length = Buffer.byteLength(row.rawBody);
    const span = { start, length };
    start += length;
    return span;
  });
  return { bytes: Buffer.from(inbound.map((row) => row.rawBody).join('')), spans };
}

/** The functions' batch arguments (migration 0006): the bodies, then JSON columns named as the SQL reads them. */
function batchArguments(batch: IngestBatch) {
  const bodies = packBodies(batch.inbound);
  const inbound = batch.inbound.map((row, index) => ({
    provider: row.provider,
    event: row.event,
    dedupe_key: row.dedupeKey,
    account_id: row.accountId,
    status: row.status,
    body_start: bodies.spans[index]!.start,
    body_length: bodies.spans[index]!.length,
    error: row.error ?? null,
  }));
  const accounts = batch.accounts.map((account) => ({
    id: account.id,
    provider: account.provider,
    account_type: account.accountType,
    user_id: account.userId,
  }));
  const messages = batch.messages.map((message, ord) => ({
    ord,
    dedupe_key: message.dedupeKey,
    account_id: message.accountId,
    id: message.id,
    chat_id: message.chatId,
    provider_message_id: message.providerMessageId,
    text: message.text,
    sender: message.sender,
    is_sender: message.isSender,
    attachments: message.attachments,
    quoted: message.quoted,
    extra: message.extra,
    sent_at: message.sentAt.toISOString(),
    provider_chat_id: message.providerChatId,
    account_type: message.accountType,
    subject: message.subject,
    is_group: message.isGroup,
    attendees: message.attendees,
    preview: message.preview,
  }));
  return sql`${bodies.bytes}::bytea, ${JSON.stringify(inbound)}::json, ${JSON.stringify(accounts)}::json, ${JSON.stringify(messages)}::json`;
}

/**
 * Records a batch's webhook bodies and applies its received messages in one round trip (the
 * `hookline_ingest_messages` function, migrations 0003 and 0006), inside the caller's transaction:
 * bodies whose dedupe key is already stored are skipped by the unique index (race-free across
 * transactions and instances); accounts with new details are upserted; messages whose key is new
 * are stored and their chats bumped. The bodies are one binary parameter and the rest one JSON
 * parameter each, so the statement text never changes.
 */
export async function ingestMessages(tx: Tx, batch: IngestBatch): Promise<IngestMessagesResult> {
  const [row] = await queryRows<{ result: { newKeys: string[]; messages: StoredJson[] } }>(
    tx,
    sql`select hookline_ingest_messages(${batchArguments(batch)}) as result`,
  );
  const messages = row?.result.messages ?? [];
  return {
    newKeys: appliedKeys(
      row?.result.newKeys ?? [],
      batch,
      messages.map((message) => message.ord),
    ),
    stored: messages.map(({ ord: _ord, merged: _merged, ...stored }) => ({
      ...stored,
      sentAt: date(stored.sentAt),
      editedAt: date(stored.editedAt),
      deletedAt: date(stored.deletedAt),
      readAt: date(stored.readAt),
      deliveredAt: date(stored.deliveredAt),
    })),
  };
}

/** SQLSTATE of `hookline_ingest_received` when a message filled in a placeholder. */
const PLACEHOLDER_FILLED = new Set(['HL409']);

/** Whether {@link ingestReceived} declined the batch (and wrote nothing) because of a placeholder. */
export function isPlaceholderFilled(error: unknown): boolean {
  return hasSqlState(error, PLACEHOLDER_FILLED);
}

/** What {@link ingestReceived} publishes for the messages it stores. */
export interface ReceivedEnvelopes {
  /** One realtime envelope per message, in the order of `batch.messages`. */
  realtime: RealtimeEventInput[];
  /**
   * Standard Webhooks `type` of the outbound envelopes. Postgres builds those from the realtime
   * envelopes' data, and only when an endpoint is enabled (migration 0007).
   */
  outboundType: string;
}

/**
 * A whole batch of new messages as ONE statement, hence one round trip and its own transaction
 * (the `hookline_ingest_received` function, migrations 0003, 0005, 0006, 0007 and 0008):
 * {@link ingestMessages}, then the envelopes of the messages actually stored, through both
 * outboxes.
 *
 * Throws an error for which {@link isPlaceholderFilled} is true, having written nothing, when a
 * message filled in a placeholder: its envelope must then be built from the merged row.
 */
export async function ingestReceived(
  db: Db,
  batch: IngestBatch,
  envelopes: ReceivedEnvelopes,
): Promise<Published & { newKeys: Set<string> }> {
  const { realtime } = outboxRows({ realtime: envelopes.realtime });
  const [row] = await queryRows<{
    result: {
      newKeys: string[];
      storedOrds: number[];
      deliveries: number;
      realtimeSeq: number | string | null;
    };
  }>(
    db,
    sql`select hookline_ingest_received(${batchArguments(batch)},
      ${JSON.stringify(realtime)}::jsonb, ${envelopes.outboundType}::text,
      ${REALTIME_APPEND_LOCK}, ${REALTIME_CHANNEL}, ${DELIVERIES_CHANNEL}) as result`,
  );
  // storedOrds are 1-based (migration 0008).
  const storedOrds = (row?.result.storedOrds ?? []).map((ord) => Number(ord) - 1);
  return {
    newKeys: appliedKeys(row?.result.newKeys ?? [], batch, storedOrds),
    ...published(row?.result.deliveries, row?.result.realtimeSeq),
  };
}
