-- Each live SQL function has one definition, in drizzle/functions/<name>.sql, which the migrator
-- applies after the migrations (server/db/migrate.ts). This drops every overload that nothing
-- calls any more:
-- - hookline_ingest_messages, all three forms (migrations 0003, 0005, 0006): every batch goes
--   through hookline_ingest_received;
-- - hookline_ingest_received of migrations 0003/0005, 0006 and 0007/0008: replaced by the form
--   that fills in placeholders itself and builds its envelopes from the rows as stored;
-- - hookline_apply_received with p_stored_rows (migrations 0006 and 0008): replaced by the form
--   that returns the stored rows as a table.
DROP FUNCTION IF EXISTS hookline_ingest_messages(json, json, json);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_ingest_messages(json, json, json, boolean);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_ingest_messages(bytea, json, json, json);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_ingest_received(json, json, json, jsonb, jsonb, bigint, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_ingest_received(bytea, json, json, json, text, jsonb, bigint, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_ingest_received(bytea, json, json, json, jsonb, text, bigint, text, text);--> statement-breakpoint
DROP FUNCTION IF EXISTS hookline_apply_received(text[], json, json, boolean);
