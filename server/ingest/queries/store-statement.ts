import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import { boolean, integer, jsonb, type PgTable, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/*
 * The batch's store as ONE statement, as SQL text beside its caller (store.ts): changing it needs
 * no migration. It records every body, skipping those whose dedupe key is stored (the unique index
 * decides, so concurrent batches and instances agree), upserts accounts with new details, stores
 * the received messages whose key it recorded (filling in placeholders), bumps their chats, and
 * returns facts only: one row per recorded key, with the message stored under it, as stored.
 *
 * The JSON parameters are read with json_to_recordset; their columns are the records below, which
 * also type the rows the caller writes (a missing or extra key fails the typecheck).
 */

/** One body, naming its bytes in the bodies parameter by offset from 0 and length. */
export const inboundRecord = pgTable('inbound', {
  provider: text('provider').notNull(),
  event: text('event'),
  dedupe_key: text('dedupe_key'),
  account_id: text('account_id'),
  status: text('status').notNull(),
  body_start: integer('body_start').notNull(),
  body_length: integer('body_length').notNull(),
  error: jsonb('error'),
});

/** One account whose details the batch carries. */
export const accountRecord = pgTable('seen', {
  id: text('id').notNull(),
  provider: text('provider').notNull(),
  account_type: text('account_type'),
  user_id: text('user_id'),
});

/** One received message, with what it gives its chat. */
export const messageRecord = pgTable('received', {
  /** Position in the batch, from 0: arrival order. */
  ord: integer('ord').notNull(),
  dedupe_key: text('dedupe_key').notNull(),
  account_id: text('account_id').notNull(),
  id: text('id').notNull(),
  chat_id: text('chat_id').notNull(),
  provider_message_id: text('provider_message_id'),
  text: text('text'),
  sender: jsonb('sender'),
  is_sender: boolean('is_sender').notNull(),
  attachments: jsonb('attachments'),
  quoted: jsonb('quoted'),
  extra: jsonb('extra'),
  /** ISO 8601, as toISOString writes it. */
  sent_at: timestamp('sent_at', { withTimezone: true, mode: 'string' }).notNull(),
  provider_chat_id: text('provider_chat_id'),
  account_type: text('account_type'),
  subject: text('subject'),
  is_group: boolean('is_group'),
  attendees: jsonb('attendees'),
  preview: text('preview'),
});

/** A row of the bodies' parameter, every key present. */
export type InboundRecord = typeof inboundRecord.$inferSelect;
/** A row of the accounts' parameter, every key present. */
export type AccountRecord = typeof accountRecord.$inferSelect;
/** A row of the messages' parameter, every key present. */
export type MessageRecord = typeof messageRecord.$inferSelect;

/** `json_to_recordset(<rows>) AS <table>(<columns>)`, the columns from the record's one definition. */
function recordset(rows: readonly object[], record: PgTable): SQL {
  const columns = Object.values(getTableColumns(record)).map(
    (column) => `${column.name} ${column.getSQLType()}`,
  );
  return sql`json_to_recordset(${JSON.stringify(rows)}::json) AS ${sql.raw(`${getTableName(record)}(${columns.join(', ')})`)}`;
}

/** One row of the statement: a key it recorded, and the message stored under it, if any. */
export interface RecordedRow {
  dedupeKey: string;
  /** Position in the batch's messages of the message under this key, or null if none. */
  ord: number | null;
  /** Null when no message was stored under the key (the rest of the message columns too). */
  accountId: string | null;
  id: string | null;
  chatId: string | null;
  text: string | null;
  sender: unknown;
  isSender: boolean | null;
  attachments: unknown;
  /** Times as Postgres prints them (drizzle's driver leaves timestamptz unparsed). */
  sentAt: string | null;
  editedAt: string | null;
  deletedAt: string | null;
}

/** The parameters, in order: bodies (bytea), inbound, accounts, messages (json). */
export interface StoreParameters {
  bodies: Buffer;
  inbound: InboundRecord[];
  accounts: AccountRecord[];
  messages: MessageRecord[];
}

/**
 * The statement. A message already received is left as it is and not returned. A placeholder left
 * by an earlier out-of-order event (edit, reaction, read, deletion) is filled in, keeping what that
 * event applied: an edited text stays the edited text, a deletion stays a deletion. Each chat is
 * bumped once per batch by the messages stored only: the details of its first message in the batch,
 * one unread per message the account did not send, and the latest message (a later arrival wins a
 * tie) as the preview, showing a filled-in placeholder's merged state. Unread counts add up; the
 * last message only moves forward in time. An account row whose details did not change is not
 * rewritten.
 */
export function storeStatement({ bodies, inbound, accounts, messages }: StoreParameters): SQL {
  return sql`
    WITH recorded AS (
      INSERT INTO inbound_events (provider, event, dedupe_key, account_id, status, raw_body, error)
      SELECT inbound.provider, inbound.event, inbound.dedupe_key, inbound.account_id, inbound.status,
        convert_from(substring(${bodies}::bytea FROM inbound.body_start + 1 FOR inbound.body_length), 'UTF8'),
        inbound.error
      FROM ${recordset(inbound, inboundRecord)}
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING dedupe_key
    ), learned AS (
      INSERT INTO accounts AS account (id, provider, account_type, user_id)
      SELECT seen.id, seen.provider, seen.account_type, seen.user_id
      FROM ${recordset(accounts, accountRecord)}
      ORDER BY seen.id
      ON CONFLICT (id) DO UPDATE SET
        account_type = coalesce(excluded.account_type, account.account_type),
        user_id = coalesce(excluded.user_id, account.user_id),
        updated_at = now()
      WHERE excluded.user_id IS DISTINCT FROM account.user_id AND excluded.user_id IS NOT NULL
        OR excluded.account_type IS DISTINCT FROM account.account_type AND excluded.account_type IS NOT NULL
    ), batch AS (
      SELECT received.*
      FROM ${recordset(messages, messageRecord)}
      WHERE received.dedupe_key IN (SELECT dedupe_key FROM recorded)
    ), stored AS (
      INSERT INTO messages AS message (
        account_id, id, chat_id, provider_message_id, state, text, sender, is_sender, attachments,
        quoted, extra, sent_at)
      SELECT batch.account_id, batch.id, batch.chat_id, batch.provider_message_id, 'received',
        batch.text, batch.sender, batch.is_sender, batch.attachments, batch.quoted, batch.extra,
        batch.sent_at
      FROM batch
      ORDER BY batch.account_id, batch.id
      ON CONFLICT (account_id, id) DO UPDATE SET
        state = 'received',
        chat_id = excluded.chat_id,
        provider_message_id = excluded.provider_message_id,
        sender = excluded.sender,
        is_sender = excluded.is_sender,
        attachments = CASE WHEN message.deleted_at IS NULL THEN excluded.attachments ELSE message.attachments END,
        quoted = excluded.quoted,
        extra = excluded.extra,
        sent_at = excluded.sent_at,
        text = CASE WHEN message.edited_at IS NULL AND message.deleted_at IS NULL
          THEN excluded.text ELSE message.text END,
        updated_at = now()
      WHERE message.state = 'placeholder'
      RETURNING message.account_id, message.id, message.chat_id, message.text, message.sender,
        message.is_sender, message.attachments, message.sent_at, message.edited_at, message.deleted_at,
        -- A fresh row has no deleting transaction; one filled in from a placeholder has ours.
        message.xmax <> 0 AS merged
    ), applied AS (
      -- The batch's messages that were stored, each with the preview of its state as stored.
      SELECT batch.ord, batch.account_id, batch.id, batch.chat_id, batch.sent_at, batch.is_sender,
        batch.provider_chat_id, batch.account_type, batch.subject, batch.is_group, batch.attendees,
        CASE WHEN stored.merged THEN hookline_message_preview(stored.text, stored.attachments)
          ELSE batch.preview END AS preview
      FROM batch JOIN stored ON stored.account_id = batch.account_id AND stored.id = batch.id
    ), bumped AS (
      INSERT INTO chats AS chat (
        account_id, id, provider_chat_id, account_type, subject, is_group, attendees,
        last_message_at, last_message_id, last_message_preview, unread_count)
      SELECT opening.account_id, opening.chat_id, opening.provider_chat_id, opening.account_type,
        opening.subject, opening.is_group, opening.attendees, latest.sent_at, latest.id,
        latest.preview, counted.unread
      FROM (SELECT DISTINCT ON (account_id, chat_id) * FROM applied ORDER BY account_id, chat_id, ord) AS opening
      JOIN (
        SELECT DISTINCT ON (account_id, chat_id) * FROM applied ORDER BY account_id, chat_id, sent_at DESC, ord DESC
      ) AS latest USING (account_id, chat_id)
      JOIN (
        SELECT account_id, chat_id, (count(*) FILTER (WHERE NOT is_sender))::integer AS unread
        FROM applied GROUP BY account_id, chat_id
      ) AS counted USING (account_id, chat_id)
      ORDER BY opening.account_id, opening.chat_id
      ON CONFLICT (account_id, id) DO UPDATE SET
        unread_count = chat.unread_count + excluded.unread_count,
        last_message_at = greatest(chat.last_message_at, excluded.last_message_at),
        last_message_id = CASE WHEN excluded.last_message_at >= coalesce(chat.last_message_at, '-infinity')
          THEN excluded.last_message_id ELSE chat.last_message_id END,
        last_message_preview = CASE WHEN excluded.last_message_at >= coalesce(chat.last_message_at, '-infinity')
          THEN excluded.last_message_preview ELSE chat.last_message_preview END,
        provider_chat_id = coalesce(excluded.provider_chat_id, chat.provider_chat_id),
        account_type = coalesce(excluded.account_type, chat.account_type),
        subject = coalesce(excluded.subject, chat.subject),
        is_group = coalesce(excluded.is_group, chat.is_group),
        attendees = coalesce(excluded.attendees, chat.attendees),
        updated_at = now()
    )
    SELECT recorded.dedupe_key AS "dedupeKey", batch.ord, stored.account_id AS "accountId", stored.id,
      stored.chat_id AS "chatId", stored.text, stored.sender, stored.is_sender AS "isSender",
      stored.attachments, stored.sent_at AS "sentAt", stored.edited_at AS "editedAt",
      stored.deleted_at AS "deletedAt"
    FROM recorded
    LEFT JOIN batch ON batch.dedupe_key = recorded.dedupe_key
    LEFT JOIN stored ON stored.account_id = batch.account_id AND stored.id = batch.id
    WHERE recorded.dedupe_key IS NOT NULL
    ORDER BY batch.ord NULLS LAST`;
}
