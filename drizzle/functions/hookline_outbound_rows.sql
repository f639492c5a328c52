-- owner: outbound
-- hookline_outbound_rows: the outbound rows hookline_publish_envelopes takes for events of one
-- Standard Webhooks type, from p_events [{ "account_id", "data" }] in publication order: each
-- with a webhook id as server/shared/ids.ts makes them (`msg_` and the 32 hex digits of a random
-- UUID) and a payload timed by the call's clock, ISO 8601 in UTC with milliseconds as JavaScript's
-- toISOString writes it. The one definition of both for the functions that publish
-- (hookline_ingest_received, hookline_settle_sent).
CREATE OR REPLACE FUNCTION hookline_outbound_rows(p_events jsonb, p_type text)
RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'type', p_type,
      'account_id', event.value->>'account_id',
      'webhook_id', 'msg_' || replace(gen_random_uuid()::text, '-', ''),
      'payload', jsonb_build_object('type', p_type, 'timestamp', stamp.at, 'data', event.value->'data'))
    ORDER BY event.ord), '[]')
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS event(value, ord),
    (SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at) AS stamp
$$;
