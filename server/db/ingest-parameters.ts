import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';

/*
 * The rows of the JSON parameters the SQL functions (`hookline_store_sends`,
 * `hookline_settle_sent`) read with `json_to_recordset`:
 * records, not stored tables (drizzle-kit only reads drizzle/schema.ts). Each key is the SQL
 * column's name, so a row built as `$inferSelect` is the JSON the function reads, and
 * test/server/db/ingest-parameters.test.ts fails when a function file's column list and these
 * definitions disagree.
 */

/** One new send of `p_sends` (hookline_store_sends). */
export const sendRecord = pgTable('batch', {
  /** Position in the batch, from 0: the order its messages are published in. */
  ord: integer('ord').notNull(),
  local_id: text('local_id').notNull(),
  account_id: text('account_id').notNull(),
  chat_id: text('chat_id').notNull(),
  text: text('text').notNull(),
  quote_id: text('quote_id'),
  /** What the read API and envelopes show of the uploaded files. */
  attachments: jsonb('attachments').notNull(),
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

/** A row of `p_sends`, every key present. */
export type SendRecord = typeof sendRecord.$inferSelect;
/** A row of `p_sent`, every key present. */
export type SentRecord = typeof sentRecord.$inferSelect;
