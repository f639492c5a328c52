-- owner: send
-- hookline_store_sends: stores a batch of new sends (server/db/send-batches.ts storeSends), so
-- that a batch without Idempotency-Keys or files is one round trip.
--
-- 1. The queue rows of the sends whose chat exists (a send for no chat is not stored), and the
--    NOTIFY on p_sends_channel that wakes every instance's worker at commit.
-- 2. Each chat's last message moves to the batch's newest in it.
-- 3. Their messages, `pending` under their local ids, and the `data` of each one's `message:new`
--    (sentMessageData in server/events/data.ts: hookline_new_message_data's object with
--    `messageId` null, `localId` and `status`); test/server/send/store-batches.test.ts compares
--    the two.
-- 4. With p_publish (the batch's one statement), publishes them for sockets. Without it (a batch
--    with other statements in its transaction), returns them for the caller to publish last.
--
-- The envelope type, lock key and channel names come from the caller, so that the TypeScript
-- constants stay their only definition. Returns { "stored": [{ "localId", "data" }] in p_sends
-- order, and "deliveries", "realtimeSeq" with p_publish }.
CREATE OR REPLACE FUNCTION hookline_store_sends(
  p_sends json,
  p_publish boolean,
  p_realtime_type text,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text,
  p_sends_channel text
) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_stored jsonb;
  v_realtime jsonb;
  v_published record;
BEGIN
  WITH batch AS (
    SELECT * FROM json_to_recordset(p_sends) AS batch(ord integer, local_id text, account_id text,
      chat_id text, text text, quote_id text, attachments jsonb)
  ), queued AS (
    INSERT INTO sends (local_id, account_id, chat_id, text, quote_id, status)
    SELECT batch.local_id, batch.account_id, batch.chat_id, batch.text, batch.quote_id, 'queued'
    FROM batch JOIN chats AS chat ON chat.account_id = batch.account_id AND chat.id = batch.chat_id
    RETURNING local_id
  ), newest AS (
    -- One row per chat (an UPDATE … FROM matching a row twice would pick either).
    SELECT DISTINCT ON (batch.account_id, batch.chat_id) batch.*
    FROM batch JOIN queued ON queued.local_id = batch.local_id
    ORDER BY batch.account_id, batch.chat_id, batch.ord DESC
  ), chats_moved AS (
    UPDATE chats AS chat SET last_message_at = now(), last_message_id = newest.local_id,
      last_message_preview = hookline_message_preview(newest.text, '[]'::jsonb), updated_at = now()
    FROM newest WHERE chat.account_id = newest.account_id AND chat.id = newest.chat_id
  ), stored AS (
    INSERT INTO messages (account_id, id, chat_id, state, text, is_sender, sent_at, local_id,
      send_status, attachments, quoted)
    SELECT batch.account_id, batch.local_id, batch.chat_id, 'received', batch.text, true, now(),
      batch.local_id, 'pending', coalesce(batch.attachments, '[]'),
      CASE WHEN batch.quote_id IS NULL THEN NULL ELSE jsonb_build_object('id', batch.quote_id) END
    FROM batch JOIN queued ON queued.local_id = batch.local_id
    RETURNING account_id, chat_id, local_id, text, attachments, sent_at
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'localId', stored.local_id, 'accountId', stored.account_id, 'data', built.data)
      ORDER BY batch.ord), '[]'),
    coalesce(jsonb_agg(jsonb_build_object(
      'account_id', stored.account_id, 'type', p_realtime_type, 'data', built.data)
      ORDER BY batch.ord), '[]')
  INTO v_stored, v_realtime
  FROM stored JOIN batch ON batch.local_id = stored.local_id
  CROSS JOIN LATERAL (
    SELECT hookline_new_message_data(stored.account_id, stored.chat_id, NULL, stored.text, NULL,
        true, stored.attachments, stored.sent_at, NULL, NULL)
      || jsonb_build_object('localId', stored.local_id, 'status', 'pending') AS data
  ) AS built;

  IF jsonb_array_length(v_stored) = 0 THEN
    RETURN json_build_object('stored', '[]'::json, 'deliveries', 0, 'realtimeSeq', NULL);
  END IF;
  PERFORM pg_notify(p_sends_channel, '');
  IF NOT p_publish THEN
    RETURN json_build_object('stored', v_stored);
  END IF;

  SELECT deliveries, realtime_seq INTO v_published
  FROM hookline_publish_envelopes(
    '[]'::jsonb, v_realtime, p_realtime_lock, p_realtime_channel, p_deliveries_channel);

  RETURN json_build_object(
    'stored', v_stored,
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
