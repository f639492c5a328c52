-- owner: ingest
-- hookline_record_bodies: records a batch's webhook bodies, skipping those whose dedupe key is
-- already stored (the unique index decides, so concurrent batches and instances agree), and
-- returns the dedupe keys this call recorded.
--
-- p_bodies: every body of the batch, UTF-8, back to back, as one bytea parameter (node-postgres
-- sends a Buffer in binary, so nothing parses the bodies on the way in).
-- p_inbound: one row per body, in arrival order, naming its body by byte offset from 0
-- (body_start) and length (body_length); the columns are server/db/ingest-parameters.ts's
-- inboundRecord.
CREATE OR REPLACE FUNCTION hookline_record_bodies(p_bodies bytea, p_inbound json)
RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  v_new_keys text[];
BEGIN
  WITH recorded AS (
    INSERT INTO inbound_events (provider, event, dedupe_key, account_id, status, raw_body, error)
    SELECT body.provider, body.event, body.dedupe_key, body.account_id, body.status,
      convert_from(substring(p_bodies FROM body.body_start + 1 FOR body.body_length), 'UTF8'),
      body.error
    FROM json_to_recordset(p_inbound) AS body(
      provider text, event text, dedupe_key text, account_id text, status text,
      body_start integer, body_length integer, error jsonb)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
  )
  SELECT coalesce(array_agg(dedupe_key) FILTER (WHERE dedupe_key IS NOT NULL), '{}') INTO v_new_keys
  FROM recorded;
  RETURN v_new_keys;
END;
$$;
