-- owner: send
-- hookline_settle_sent: settles sends as `sent` with the provider's ids in one call
-- (server/send/queries/send-batches.ts settleSent), so that the worker's common batch, every send
-- answered 201, is one statement before its publication.
--
-- 1. Each send of p_sent is settled only while its status is one of its `expected` (the UPDATE
--    locks the row and re-checks, so an echo that settled it first wins); its files are dropped.
-- 2. Its message takes the provider's id. When the echo already stored that id as a message of its
--    own, that message takes the local id and status and the local row goes: one message either
--    way. The chat's last message follows.
--
-- Returns, in p_sent order, each settled send's message as stored now and what settled it; the
-- caller renders and publishes what the changes mean.
CREATE OR REPLACE FUNCTION hookline_settle_sent(p_sent json)
RETURNS TABLE (ord integer, settled_by text, account_id text, id text, chat_id text, local_id text,
  send_status text, text text, sender jsonb, is_sender boolean, attachments jsonb, reactions jsonb,
  sent_at timestamptz, edited_at timestamptz, deleted_at timestamptz, read_at timestamptz,
  delivered_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ords integer[];
  v_local_ids text[];
  v_account_ids text[];
  v_provider_ids text[];
  v_settled_by text[];
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
  SELECT coalesce(array_agg(settled.ord ORDER BY settled.ord), '{}'),
    coalesce(array_agg(settled.local_id ORDER BY settled.ord), '{}'),
    coalesce(array_agg(settled.account_id ORDER BY settled.ord), '{}'),
    coalesce(array_agg(settled.provider_id ORDER BY settled.ord), '{}'),
    coalesce(array_agg(settled.settled_by ORDER BY settled.ord), '{}')
  INTO v_ords, v_local_ids, v_account_ids, v_provider_ids, v_settled_by
  FROM settled;

  IF cardinality(v_local_ids) = 0 THEN
    RETURN;
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

  RETURN QUERY
  SELECT settled.ord, settled.settled_by, message.account_id, message.id, message.chat_id,
    message.local_id, message.send_status, message.text, message.sender, message.is_sender,
    message.attachments, message.reactions, message.sent_at, message.edited_at, message.deleted_at,
    message.read_at, message.delivered_at
  FROM unnest(v_ords, v_local_ids, v_settled_by) AS settled(ord, local_id, settled_by)
  JOIN messages AS message ON message.local_id = settled.local_id
  ORDER BY settled.ord;
END;
$$;
