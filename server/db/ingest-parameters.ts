import { boolean, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/*
 * The rows of the JSON parameters the SQL functions (`hookline_ingest_received`,
 * `hookline_settle_sent`) read with `json_to_recordset`:
 * records, not stored tables (drizzle-kit only reads drizzle/schema.ts). Each key is the SQL
 * column's name, so a row built as `$inferSelect` is the JSON the function reads, and
 * test/server/db/ingest-parameters.test.ts fails when a function file's column list and these
 * definitions disagree.
 */

/** One webhook body of `p_inbound` (hookline_record_bodies), naming its bytes in `p_bodies`. */
export const inboundRecord = pgTable('inbound', {
  provider: text('provider').notNull(),
  event: text('event'),
  dedupe_key: text('dedupe_key'),
  account_id: text('account_id'),
  status: text('status').notNull(),
  /** Byte offset of the body in `p_bodies`, from 0. */
  body_start: integer('body_start').notNull(),
  body_length: integer('body_length').notNull(),
  error: jsonb('error'),
});

/** One account of `p_accounts` (hookline_apply_received) whose details the batch carries. */
export const accountRecord = pgTable('seen', {
  id: text('id').notNull(),
  provider: text('provider').notNull(),
  account_type: text('account_type'),
  user_id: text('user_id'),
});

/** One received message of `p_messages` (hookline_apply_received), with what it gives its chat. */
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

/** One send of `p_sent` (hookline_settle_sent) to settle as `sent`. */
export const sentRecord = pgTable('sent', {
  /** Position in the batch, from 0: the order its changes are published in. */
  ord: integer('ord').notNull(),
  local_id: text('local_id').notNull(),
  provider_id: text('provider_id').notNull(),
  /** `response`, `echo` or `lookup`. */
  settled_by: text('settled_by').notNull(),
  /** The statuses the send may be in for it to be settled. */
  expected: text('expected').array().notNull(),
});

/** A row of `p_inbound`, every key present (a missing or extra one fails the typecheck). */
export type InboundRecord = typeof inboundRecord.$inferSelect;
/** A row of `p_accounts`, every key present. */
export type AccountRecord = typeof accountRecord.$inferSelect;
/** A row of `p_messages`, every key present. */
export type MessageRecord = typeof messageRecord.$inferSelect;
/** A row of `p_sent`, every key present. */
export type SentRecord = typeof sentRecord.$inferSelect;
