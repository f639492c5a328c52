-- owner: send
-- hookline_settle_sent: settles sends as `sent` with the provider's ids, and publishes the
-- changes, in one call (server/db/send-batches.ts settleSent), so that the worker's common batch,
-- every send answered 201, is one round trip.
--
-- 1. Each send of p_sent is settled only while its status is one of its `expected` (the UPDATE
--    locks the row and re-checks, so an echo that settled it first wins); its files are dropped.
-- 2. Its message takes the provider's id. When the echo already stored that id as a message of its
--    own, that message takes the local id and status and the local row goes: one message either
--    way. The chat's last message follows.
-- 3. Builds, in p_sent order, a `message:updated` with the new status for sockets
--    (sendStatusData in server/events/data.ts) and, when an endpoint is enabled, a `message.sent`
--    for subscribers (sentMessageData with `settledBy`; hookline_outbound_rows).
--    test/server/send/settle-batches.test.ts compares both with the TypeScript builders.
-- 4. With p_publish (the last statement of its transaction), publishes them. Without it (a
--    transaction with more to publish), returns them as hookline_publish_envelopes takes them,
--    for the caller to publish last.
--
-- The envelope types, lock key and channel names come from the caller, so that the TypeScript
-- constants stay their only definition. Returns { "settled": [local ids] } and, with p_publish,
-- { "deliveries", "realtimeSeq" }, else { "realtime": [...], "outbound": [...] }.
CREATE OR REPLACE FUNCTION hookline_settle_sent(
  p_sent json,
  p_publish boolean,
  p_realtime_type text,
  p_outbound_type text,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text
) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_ords integer[];
  v_local_ids text[];
  v_account_ids text[];
  v_provider_ids text[];
  v_settled_by text[];
  v_endpoints boolean;
  v_realtime jsonb;
  v_sent jsonb;
  v_outbound jsonb := '[]';
  v_published record;
BEGIN
  WITH sent AS (
    SELECT * FROM json_to_recordset(p_sent) AS sent(ord integer, local_id text, provider_id text,
      settled_by text, expected text[])
  ), settled AS (
    UPDATE sends AS send SET status = 'sent', provider_message_id = sent.provider_id,
      settled_by = sent.settled_by, lease_expires_at = NULL, last_error = NULL, updated_at = now()
    FROM sent
    WHERE send.local_id = sent.local_id AND send.status = ANY (sent.expected)
    RETURNING sent.ord, send.local_id, send.account_id, sent.provider_id, sent.settled_by
  ), files_dropped AS (
    DELETE FROM send_attachments AS file USING settled WHERE file.local_id = settled.local_id
  )
  SELECT coalesce(array_agg(ord ORDER BY ord), '{}'), coalesce(array_agg(local_id ORDER BY ord), '{}'),
    coalesce(array_agg(account_id ORDER BY ord), '{}'), coalesce(array_agg(provider_id ORDER BY ord), '{}'),
    coalesce(array_agg(settled_by ORDER BY ord), '{}')
  INTO v_ords, v_local_ids, v_account_ids, v_provider_ids, v_settled_by
  FROM settled;

  IF cardinality(v_local_ids) = 0 THEN
    RETURN json_build_object('settled', '[]'::json, 'deliveries', 0, 'realtimeSeq', NULL,
      'realtime', '[]'::json, 'outbound', '[]'::json);
  END IF;

  -- The echo stored the provider's id first: the local row goes, and the echo's takes its place.
  DELETE FROM messages AS local
  USING unnest(v_local_ids, v_account_ids, v_provider_ids) AS settled(local_id, account_id, provider_id)
  WHERE local.local_id = settled.local_id
    AND EXISTS (SELECT FROM messages AS echo WHERE echo.account_id = settled.account_id
      AND echo.id = settled.provider_id AND echo.local_id IS DISTINCT FROM settled.local_id);
  UPDATE messages AS echo SET local_id = settled.local_id, send_status = 'sent', updated_at = now()
  FROM unnest(v_local_ids, v_account_ids, v_provider_ids) AS settled(local_id, account_id, provider_id)
  WHERE echo.account_id = settled.account_id AND echo.id = settled.provider_id;
  -- The common case: the message stored under its local id takes the provider's.
  UPDATE messages AS local SET id = settled.provider_id, send_status = 'sent', updated_at = now()
  FROM unnest(v_local_ids, v_provider_ids) AS settled(local_id, provider_id)
  WHERE local.local_id = settled.local_id AND local.id <> settled.provider_id;
  UPDATE chats AS chat SET last_message_id = settled.provider_id
  FROM unnest(v_local_ids, v_account_ids, v_provider_ids) AS settled(local_id, account_id, provider_id)
  WHERE chat.account_id = settled.account_id AND chat.last_message_id = settled.local_id;

  -- One pass over the messages; the `message.sent` data only when an endpoint may want it.
  v_endpoints := EXISTS (SELECT 1 FROM endpoints WHERE enabled);
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'account_id', message.account_id,
      'type', p_realtime_type,
      'data', jsonb_build_object('accountId', message.account_id, 'chatId', message.chat_id,
        'messageId', shown.message_id, 'change', 'status', 'localId', message.local_id,
        'status', message.send_status, 'text', message.text)) ORDER BY settled.ord), '[]'),
    coalesce(jsonb_agg(jsonb_build_object(
      'account_id', message.account_id,
      'data', hookline_new_message_data(message.account_id, message.chat_id, shown.message_id,
          message.text, message.sender, message.is_sender, message.attachments, message.sent_at,
          message.edited_at, message.deleted_at)
        || jsonb_build_object('localId', message.local_id, 'status', message.send_status,
          'settledBy', settled.settled_by)) ORDER BY settled.ord) FILTER (WHERE v_endpoints), '[]')
  INTO v_realtime, v_sent
  FROM unnest(v_ords, v_local_ids, v_settled_by) AS settled(ord, local_id, settled_by)
  JOIN messages AS message ON message.local_id = settled.local_id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN message.id = message.local_id THEN NULL ELSE message.id END AS message_id
  ) AS shown;
  IF v_endpoints THEN
    v_outbound := hookline_outbound_rows(v_sent, p_outbound_type);
  END IF;

  IF NOT p_publish THEN
    RETURN json_build_object('settled', to_json(v_local_ids), 'realtime', v_realtime,
      'outbound', v_outbound);
  END IF;
  SELECT deliveries, realtime_seq INTO v_published
  FROM hookline_publish_envelopes(
    v_outbound, v_realtime, p_realtime_lock, p_realtime_channel, p_deliveries_channel);

  RETURN json_build_object(
    'settled', to_json(v_local_ids),
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
