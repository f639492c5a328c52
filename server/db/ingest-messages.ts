import { sql } from 'drizzle-orm';
import type { AccountSeen } from './accounts.js';
import type { Db, Executor, Tx } from './database.js';
import type { AccountRecord, InboundRecord, MessageRecord } from './ingest-parameters.js';
import {
  DELIVERIES_CHANNEL,
  type Published,
  published,
  REALTIME_APPEND_LOCK,
  REALTIME_CHANNEL,
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

/**
 * A message the call stored (fresh, or filling in a placeholder), with the `data` of its
 * `message:new` envelope as Postgres built it from the row as stored (`hookline_new_message_data`,
 * the same object as the ingest feature's newMessageData).
 */
export interface NewMessage {
  accountId: string;
  id: string;
  data: { messageId: string } & Record<string, unknown>;
}

/** The envelope types {@link ingestReceived} publishes its messages under. */
export interface NewMessageTypes {
  /** The realtime envelope `type` (`message:new`). */
  realtime: string;
  /** The Standard Webhooks `type` of the outbound envelopes (`message.received`). */
  outbound: string;
}

/**
 * The JSON parameters of `hookline_ingest_received`, keyed as the SQL reads them (see
 * ingest-parameters.ts), and the bodies as one buffer, UTF-8, back to back. A Buffer parameter
 * travels in binary, so Postgres stores the bodies without parsing them (inside JSON each quote
 * had to be escaped here and unescaped there, character by character).
 */
export function ingestParameters(batch: IngestBatch): {
  bodies: Buffer;
  inbound: InboundRecord[];
  accounts: AccountRecord[];
  messages: MessageRecord[];
} {
  let start = 0;
  const inbound = batch.inbound.map((row): InboundRecord => {
    const length = Buffer.byteLength(row.rawBody);
    const record: InboundRecord = {
      provider: row.provider,
      event: row.event,
      dedupe_key: row.dedupeKey,
      account_id: row.accountId,
      status: row.status,
      body_start: start,
      body_length: length,
      error: row.error ?? null,
    };
    start += length;
    return record;
  });
  const accounts = batch.accounts.map(
    (account): AccountRecord => ({
      id: account.id,
      provider: account.provider,
      account_type: account.accountType,
      user_id: account.userId,
    }),
  );
  const messages = batch.messages.map(
    (message, ord): MessageRecord => ({
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
    }),
  );
  const bodies = Buffer.from(batch.inbound.map((row) => row.rawBody).join(''));
  return { bodies, inbound, accounts, messages };
}

interface IngestResult {
  newKeys: string[];
  /** Positions in `batch.messages` of the messages stored, from 0. */
  storedOrds: number[];
  deliveries?: number;
  realtimeSeq?: number | string | null;
  newMessages?: { account_id: string; data: NewMessage['data'] }[];
}

/**
 * The one call of `hookline_ingest_received` (drizzle/functions/hookline_ingest_received.sql).
 * The bodies are one binary parameter and the rest one JSON parameter each, so the statement
 * text never changes.
 */
async function callIngest(
  executor: Executor,
  batch: IngestBatch,
  types: NewMessageTypes | null,
): Promise<{ newKeys: Set<string>; result: IngestResult }> {
  const { bodies, inbound, accounts, messages } = ingestParameters(batch);
  const [row] = await queryRows<{ result: IngestResult }>(
    executor,
    sql`select hookline_ingest_received(${bodies}::bytea, ${JSON.stringify(inbound)}::json,
      ${JSON.stringify(accounts)}::json, ${JSON.stringify(messages)}::json, ${types !== null}::boolean,
      ${types?.realtime ?? null}::text, ${types?.outbound ?? null}::text,
      ${REALTIME_APPEND_LOCK}, ${REALTIME_CHANNEL}, ${DELIVERIES_CHANNEL}) as result`,
  );
  const result = row?.result ?? { newKeys: [], storedOrds: [] };
  return { newKeys: appliedKeys(result.newKeys, batch, result.storedOrds), result };
}

/**
 * The recorded keys, less those of received messages the database did not store: a message is
 * stored once per (account, message id), so a second `message_received` for it under another
 * key (a retry straddling an upgrade of the key, a REST copy) recorded its body but changed
 * nothing, and is a duplicate.
 */
function appliedKeys(recorded: string[], batch: IngestBatch, storedOrds: number[]): Set<string> {
  const keys = new Set(recorded);
  const stored = new Set(storedOrds);
  batch.messages.forEach((message, ord) => {
    if (!stored.has(ord)) keys.delete(message.dedupeKey);
  });
  return keys;
}

/**
 * Records a batch's bodies and applies its received messages inside the caller's transaction,
 * returning the stored messages' envelope data for the caller to publish with its own (see
 * {@link ingestReceived} for what is applied).
 *
 * @returns the dedupe keys this call recorded and applied (a key it did not record belongs to a
 * duplicate, and so does the key of a received message that was already stored), and the messages
 * stored, in arrival order.
 */
export async function ingestMessages(
  tx: Tx,
  batch: IngestBatch,
): Promise<{ newKeys: Set<string>; newMessages: NewMessage[] }> {
  const { newKeys, result } = await callIngest(tx, batch, null);
  return {
    newKeys,
    newMessages: (result.newMessages ?? []).map((message) => ({
      accountId: message.account_id,
      id: message.data.messageId,
      data: message.data,
    })),
  };
}

/**
 * A batch of only webhook bodies and new messages as ONE statement, hence one round trip and its
 * own transaction: every body is recorded, skipping those whose dedupe key is already stored (the
 * unique index decides, race-free across transactions and instances); accounts with new details
 * are upserted; messages whose key is new are stored (filling in a placeholder an out-of-order
 * event left) and their chats bumped; and each stored message's `message:new` envelope, built by
 * Postgres from the row as stored, is published through both outboxes.
 */
export async function ingestReceived(
  db: Db,
  batch: IngestBatch,
  types: NewMessageTypes,
): Promise<Published & { newKeys: Set<string> }> {
  const { newKeys, result } = await callIngest(db, batch, types);
  return { newKeys, ...published(result.deliveries, result.realtimeSeq) };
}
