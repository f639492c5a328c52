import { integer, pgTable, text } from 'drizzle-orm/pg-core';

/*
 * The rows of `hookline_settle_sent`'s JSON parameter, read with `json_to_recordset`: a record,
 * not a stored table (drizzle-kit only reads drizzle/schema.ts). Each key is the SQL column's
 * name, so a row built as `$inferSelect` is the JSON the function reads, and
 * test/server/send/queries/settle-parameters.test.ts fails when the function file's column list and this
 * definition disagree.
 */

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

/** A row of `p_sent`, every key present. */
export type SentRecord = typeof sentRecord.$inferSelect;
