-- The one-statement ingest builds its outbound envelopes itself, and only when an endpoint wants them.
--
-- Until now the gateway sent every batch's outbound envelopes (p_outbound): a second copy of each
-- message's realtime data, with a webhook id and a timestamp, serialised in Node and sent over the
-- wire even when no endpoint was enabled, the common case, where Postgres then ignored it. An
-- outbound envelope of a new message is its realtime envelope's data under a Standard Webhooks
-- `type` and `timestamp`, so this form derives them from p_realtime, after checking that an
-- endpoint is enabled:
-- - `type` is p_outbound_type (the caller's constant, so the TypeScript catalogue stays its only
--   definition);
-- - `webhook_id` is `msg_` and the 32 hex digits of a random UUID, as the gateway's newWebhookId;
-- - `timestamp` is the statement's clock time in UTC, ISO 8601 with milliseconds, as JavaScript's
--   toISOString writes it.
--
-- The form of migration 0006 stays, unchanged, for instances still running the previous release
-- during a rolling upgrade.
CREATE FUNCTION hookline_ingest_received(
  p_bodies bytea,
  p_inbound json,
  p_accounts json,
  p_messages json,
  p_realtime jsonb,
  p_outbound_type text,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text
) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_new_keys text[];
  v_stored json;
  v_ords bigint[];
  v_realtime jsonb;
  v_outbound jsonb := '[]';
  v_timestamp text;
  v_published record;
BEGIN
  v_new_keys := hookline_record_bodies(p_bodies, p_inbound);
  v_stored := hookline_apply_received(v_new_keys, p_accounts, p_messages, false);
  IF EXISTS (SELECT 1 FROM json_array_elements(v_stored) AS stored WHERE (stored->>'merged')::boolean) THEN
    RAISE EXCEPTION 'a message filled in a placeholder' USING ERRCODE = 'HL409';
  END IF;
  SELECT coalesce(array_agg((stored->>'ord')::bigint + 1), '{}') INTO v_ords
  FROM json_array_elements(v_stored) AS stored;

  -- The envelopes of the messages stored, in arrival order.
  SELECT coalesce(jsonb_agg(envelope.value ORDER BY envelope.ord), '[]') INTO v_realtime
  FROM jsonb_array_elements(p_realtime) WITH ORDINALITY AS envelope(value, ord)
  WHERE envelope.ord = ANY (v_ords);

  IF jsonb_array_length(v_realtime) > 0 AND EXISTS (SELECT 1 FROM endpoints WHERE enabled) THEN
    v_timestamp := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    SELECT jsonb_agg(jsonb_build_object(
        'type', p_outbound_type,
        'account_id', envelope.value->>'account_id',
        'webhook_id', 'msg_' || replace(gen_random_uuid()::text, '-', ''),
        'payload', jsonb_build_object(
          'type', p_outbound_type, 'timestamp', v_timestamp, 'data', envelope.value->'data'))
      ORDER BY envelope.ord)
    INTO v_outbound
    FROM jsonb_array_elements(v_realtime) WITH ORDINALITY AS envelope(value, ord);
  END IF;

  SELECT deliveries, realtime_seq INTO v_published
  FROM hookline_publish_envelopes(
    v_outbound, v_realtime, p_realtime_lock, p_realtime_channel, p_deliveries_channel);

  RETURN json_build_object(
    'newKeys', v_new_keys,
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
