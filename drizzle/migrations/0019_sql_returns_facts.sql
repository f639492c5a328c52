-- Statements return stored rows and TypeScript renders every wire shape (docs/database.md). This
-- drops the functions that built envelopes in SQL, for databases made by earlier releases:
-- - hookline_ingest_received, hookline_apply_received, hookline_record_bodies: a webhook batch's
--   store is one statement of SQL text in server/ingest/queries/store-statement.ts;
-- - hookline_store_sends: the send store is SQL text in server/send/queries/send-batches.ts;
-- - hookline_settle_sent with its publish flag and constants: the function file now defines the
--   one-parameter form, which returns the settled messages;
-- - hookline_new_message_data, hookline_outbound_rows: envelopes and webhook bodies are rendered
--   in server/events/.
DROP FUNCTION IF EXISTS hookline_ingest_received(bytea, json, json, json, boolean, text, text, bigint, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_apply_received(text[], json, json);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_record_bodies(bytea, json);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_store_sends(json, boolean, text, bigint, text, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_settle_sent(json, boolean, text, text, bigint, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_new_message_data(text, text, text, text, jsonb, boolean, jsonb, timestamptz, timestamptz, timestamptz);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_outbound_rows(jsonb, text);
