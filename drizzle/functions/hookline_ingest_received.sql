-- owner: ingest
-- hookline_ingest_received: every webhook batch's one call (server/db/ingest-messages.ts).
--
-- 1. Records every body (hookline_record_bodies); the keys it recorded are the batch's new events.
-- 2. Applies the received messages among them (hookline_apply_received): a message fills in a
--    placeholder like any other, so no batch is declined.
-- 3. Builds each stored message's `message:new` envelope from the row as stored (merged with a
--    placeholder or fresh), in arrival order (hookline_new_message_data).
-- 4. With p_publish (a batch of only new messages, whose one statement this is), publishes them:
--    the realtime rows, and when an endpoint is enabled the outbound ones, under p_outbound_type
--    (hookline_outbound_rows). Without it (a batch with other statements in its transaction),
--    returns them for the caller to publish last, after its own.
--
-- The envelope types, lock key and channel names come from the caller, so that the TypeScript
-- constants stay their only definition.
--
-- Returns { "newKeys": [...], "storedOrds": [...] } (positions in p_messages, from 0), and
-- { "deliveries", "realtimeSeq" } with p_publish, or "newMessages": [{ "account_id", "data" }].
CREATE OR REPLACE FUNCTION hookline_ingest_received(
  p_bodies bytea,
  p_inbound json,
  p_accounts json,
  p_messages json,
  p_publish boolean,
  p_realtime_type text,
  p_outbound_type text,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text
) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_new_keys text[];
  v_ords integer[];
  v_realtime jsonb;
  v_outbound jsonb := '[]';
  v_published record;
BEGIN
  v_new_keys := hookline_record_bodies(p_bodies, p_inbound);

  SELECT coalesce(array_agg(stored.ord ORDER BY stored.ord), '{}'),
    coalesce(jsonb_agg(jsonb_build_object(
      'account_id', stored.account_id,
      'type', p_realtime_type,
      'data', hookline_new_message_data(stored.account_id, stored.chat_id, stored.id, stored.text,
        stored.sender, stored.is_sender, stored.attachments, stored.sent_at, stored.edited_at,
        stored.deleted_at)) ORDER BY stored.ord), '[]')
  INTO v_ords, v_realtime
  FROM hookline_apply_received(v_new_keys, p_accounts, p_messages) AS stored;

  IF NOT p_publish THEN
    RETURN json_build_object('newKeys', v_new_keys, 'storedOrds', v_ords, 'newMessages', v_realtime);
  END IF;

  IF jsonb_array_length(v_realtime) > 0 AND EXISTS (SELECT 1 FROM endpoints WHERE enabled) THEN
    v_outbound := hookline_outbound_rows(v_realtime, p_outbound_type);
  END IF;

  SELECT deliveries, realtime_seq INTO v_published
  FROM hookline_publish_envelopes(
    v_outbound, v_realtime, p_realtime_lock, p_realtime_channel, p_deliveries_channel);

  RETURN json_build_object(
    'newKeys', v_new_keys,
    'storedOrds', v_ords,
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
