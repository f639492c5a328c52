import type { Tx } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import type { NewMessageRow } from '../../events/index.js';
import type { MessageEvent } from '../../providers/events.js';
import { markRepeats, newKeys, repeatsInBatch } from '../dedupe.js';
import { acceptedMessage, type IngestItem, type ItemResult } from '../items.js';
import type { KnownAccounts } from '../known-accounts.js';
import { messagePreview } from '../preview.js';
import type { AccountSeen } from './accounts.js';
import {
  type AccountRecord,
  type InboundRecord,
  type MessageRecord,
  type RecordedRow,
  type StoreParameters,
  storeStatement,
} from './store-statement.js';

/** One body as recorded in `inbound_events`. */
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
  /** The event's dedupe key: the message is applied only if the store recorded the key. */
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

/** What the store statement takes: bodies, accounts with new details, received messages. */
export interface IngestBatch {
  /** Every body of the batch, in arrival order (duplicates within the batch left out). */
  inbound: InboundEventRow[];
  /** Accounts whose details this instance has not written yet. */
  accounts: AccountSeen[];
  /** The batch's `message_received` events, in arrival order. */
  messages: ReceivedMessage[];
}

/**
 * A `message_received` event as stored: the message, and what it contributes to its chat.
 * A message always has a time (the provider's, else `receivedAt`), so chat and message ordering
 * never meets a null.
 */
function receivedMessage(event: MessageEvent, dedupeKey: string, receivedAt: Date): ReceivedMessage {
  return {
    dedupeKey,
    accountId: event.accountId,
    id: event.messageId,
    chatId: event.chatId,
    providerMessageId: event.providerMessageId,
    text: event.text,
    sender: event.sender,
    isSender: event.isSender,
    attachments: event.attachments,
    quoted: event.quoted,
    extra: event.extra,
    sentAt: event.occurredAt ?? receivedAt,
    providerChatId: event.providerChatId,
    accountType: event.accountType,
    subject: event.subject,
    isGroup: event.isGroup,
    attendees: event.attendees.length > 0 ? event.attendees : null,
    preview: messagePreview(event.text, event.attachments),
  };
}

/** The accounts received messages name, once each, with the details they carry. */
function accountsOf(events: MessageEvent[], provider: string): AccountSeen[] {
  const accounts = new Map<string, AccountSeen>();
  for (const event of events) {
    accounts.set(event.accountId, {
      id: event.accountId,
      provider,
      accountType: event.accountType,
      userId: event.accountUserId,
    });
  }
  return [...accounts.values()];
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
 * The statement's parameters, keyed as the SQL reads them, and the bodies as one buffer, UTF-8,
 * back to back. A Buffer parameter travels in binary, so Postgres stores the bodies without
 * parsing them (inside JSON each quote had to be escaped here and unescaped there).
 */
function storeParameters(batch: IngestBatch): StoreParameters {
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

/**
 * Runs the store statement (store-statement.ts) for a prepared batch in the caller's transaction.
 * @returns the keys of the events that were new (see newKeys in dedupe.ts), and the messages
 * stored (fresh, or filling in a placeholder), as stored, in arrival order.
 */
export async function storeBatch(
  tx: Tx,
  batch: IngestBatch,
): Promise<{ newKeys: Set<string>; stored: NewMessageRow[] }> {
  const rows = await queryRows<RecordedRow>(tx, storeStatement(storeParameters(batch)));
  const recorded = rows.map((row) => ({
    dedupeKey: row.dedupeKey,
    stored: row.id !== null,
    received: row.ord !== null,
  }));
  return { newKeys: newKeys(recorded), stored: rows.flatMap(storedMessage) };
}

const time = (value: string | null) => (value === null ? null : new Date(value));

/** The message a recorded key stored, with its times parsed; none when the key stored none. */
function storedMessage(row: RecordedRow): NewMessageRow[] {
  if (row.accountId === null || row.id === null || row.chatId === null) return [];
  return [
    {
      accountId: row.accountId,
      chatId: row.chatId,
      id: row.id,
      text: row.text,
      sender: row.sender,
      isSender: row.isSender,
      attachments: row.attachments,
      sentAt: time(row.sentAt),
      editedAt: time(row.editedAt),
      deletedAt: time(row.deletedAt),
    },
  ];
}

/** Where a batch's items come from, and what the store may skip. */
export interface StoreOptions {
  /** The provider the items came from, stored on each inbound event row. */
  provider: string;
  /** A message without the provider's time is timed at this. Default now. */
  receivedAt?: Date;
  /** Accounts this instance already wrote, whose upsert a batch can skip. Default none. */
  knownAccounts?: KnownAccounts;
}

/** What {@link store} did with a batch. */
export interface StoredItems {
  /** Accounts whose details the batch wrote (see KnownAccounts). */
  accountsWritten: AccountSeen[];
  /** The messages stored, as stored, in arrival order. */
  stored: NewMessageRow[];
  /** The batch's new message events other than `message_received`, in arrival order. */
  followUps: MessageEvent[];
}

/**
 * Ingest's one store, for webhooks and sync alike: in the caller's transaction, one statement
 * records every body that is not a repeat within the batch, upserts the accounts with new details,
 * and stores the new received messages (filling in placeholders) and bumps their chats. Marks in
 * `results` (see repeatsInBatch) every message event that turned out to be a duplicate.
 */
export async function store(
  tx: Tx,
  items: readonly IngestItem[],
  options: StoreOptions,
  results: ItemResult[] = repeatsInBatch(items),
): Promise<StoredItems> {
  const received: ReceivedMessage[] = [];
  const events: MessageEvent[] = [];
  const receivedAt = options.receivedAt ?? new Date();
  items.forEach((item, index) => {
    const message = acceptedMessage(item, results[index]);
    if (message?.event.event !== 'message_received' || message.dedupeKey === null) return;
    events.push(message.event);
    received.push(receivedMessage(message.event, message.dedupeKey, receivedAt));
  });
  const accounts = accountsOf(events, options.provider);
  const batch: IngestBatch = {
    inbound: items
      .filter((_item, index) => results[index] !== 'duplicate')
      .map((item) => inboundRow(item, options.provider)),
    accounts: options.knownAccounts?.unseen(accounts) ?? accounts,
    messages: received,
  };
  const { newKeys: fresh, stored } = await storeBatch(tx, batch);
  const followUps = markRepeats(items, results, fresh).filter((event) => event.event !== 'message_received');
  return { accountsWritten: batch.accounts, stored, followUps };
}
