import { sql } from 'drizzle-orm';
import type { AccountSeen } from './accounts.js';
import type { Tx } from './database.js';
import type { MessageState } from './messages.js';
import { queryRows } from './rows.js';

/** One webhook body as recorded in `inbound_events`. */
export interface InboundEventRow {
  provider: string;
  event: string | null;
  dedupeKey: string | null;
  accountId: string | null;
  status: 'accepted' | 'rejected';
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

export interface IngestMessagesResult {
  /** The dedupe keys this call recorded: a key it did not record belongs to a duplicate. */
  newKeys: Set<string>;
  /** The stored messages, as they are after merging with an out-of-order placeholder. */
  stored: MessageState[];
}

type StoredJson = Omit<MessageState, 'sentAt' | 'editedAt' | 'deletedAt' | 'readAt' | 'deliveredAt'> &
  Record<'sentAt' | 'editedAt' | 'deletedAt' | 'readAt' | 'deliveredAt', string | null>;

const date = (value: string | null) => (value === null ? null : new Date(value));

/**
 * Records a batch's webhook bodies and applies its received messages in one round trip (the
 * `hookline_ingest_messages` function, migration 0003): bodies whose dedupe key is already stored
 * are skipped by the unique index (race-free across transactions and instances); accounts with
 * new details are upserted; messages whose key is new are stored and their chats bumped.
 * Each argument travels as one JSON parameter, so the statement text never changes.
 */
export async function ingestMessages(
  tx: Tx,
  batch: { inbound: InboundEventRow[]; accounts: AccountSeen[]; messages: ReceivedMessage[] },
): Promise<IngestMessagesResult> {
  const inbound = batch.inbound.map((row) => ({
    provider: row.provider,
    event: row.event,
    dedupe_key: row.dedupeKey,
    account_id: row.accountId,
    status: row.status,
    raw_body: row.rawBody,
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
  const [row] = await queryRows<{ result: { newKeys: string[]; messages: StoredJson[] } }>(
    tx,
    sql`select hookline_ingest_messages(${JSON.stringify(inbound)}::json, ${JSON.stringify(accounts)}::json, ${JSON.stringify(messages)}::json) as result`,
  );
  const result = row?.result;
  return {
    newKeys: new Set(result?.newKeys ?? []),
    stored: (result?.messages ?? []).map((stored: StoredJson) => ({
      ...stored,
      sentAt: date(stored.sentAt),
      editedAt: date(stored.editedAt),
      deletedAt: date(stored.deletedAt),
      readAt: date(stored.readAt),
      deliveredAt: date(stored.deliveredAt),
    })),
  };
}
