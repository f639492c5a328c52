ALTER TABLE "messages" ADD COLUMN "reaction_times" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint

-- Later wins, and a chat's preview follows its last message.
--
-- messages.reaction_times: when each reactor's current reaction (or its removal) happened, keyed
-- by the reactor's key, so that an older reaction arriving late is recorded but not applied. The
-- other kinds of state already carry their time (edited_at, deleted_at, read_at, delivered_at);
-- the gateway compares with them in its follow-up statements.
--
-- hookline_apply_received (migration 0006) is replaced, same signature and result:
-- - a chat is bumped only by the messages actually stored. A message_received whose message is
--   already stored (a second delivery under another dedupe key, such as a retry straddling an
--   upgrade of the key) no longer adds an unread or moves the preview;
-- - a message that fills in a placeholder shows its merged state in the chat's preview: an
--   edited text, or nothing once deleted (hookline_message_preview).
--
-- hookline_ingest_received (migration 0007's form) is replaced, same signature, and its result
-- also names the stored messages (storedOrds, 1-based positions in p_messages), so the gateway
-- answers such a second delivery as a duplicate without another pass over p_messages.

-- The chat list's preview of a message, as the gateway writes it for a new message: the text,
-- cut at 200 characters with an ellipsis; else "[attachment]" when it has any; else null.
CREATE FUNCTION hookline_message_preview(p_text text, p_attachments jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN coalesce(p_text, '') <> '' THEN
      CASE WHEN char_length(p_text) > 200 THEN left(p_text, 200) || '…' ELSE p_text END
    WHEN jsonb_typeof(p_attachments) = 'array' AND jsonb_array_length(p_attachments) > 0 THEN '[attachment]'
  END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION hookline_apply_received(
  p_new_keys text[], p_accounts json, p_messages json, p_stored_rows boolean)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_stored json;
BEGIN
  INSERT INTO accounts AS account (id, provider, account_type, user_id)
  SELECT seen.id, seen.provider, seen.account_type, seen.user_id
  FROM json_to_recordset(p_accounts) AS seen(id text, provider text, account_type text, user_id text)
  ORDER BY seen.id
  ON CONFLICT (id) DO UPDATE SET
    account_type = coalesce(excluded.account_type, account.account_type),
    user_id = coalesce(excluded.user_id, account.user_id),
    updated_at = now()
  -- Unchanged rows are not rewritten.
  WHERE excluded.user_id IS DISTINCT FROM account.user_id AND excluded.user_id IS NOT NULL
    OR excluded.account_type IS DISTINCT FROM account.account_type AND excluded.account_type IS NOT NULL;

  WITH batch AS (
    SELECT received.*
    FROM json_to_recordset(p_messages) AS received(
      ord integer, dedupe_key text, account_id text, id text, chat_id text, provider_message_id text,
      text text, sender jsonb, is_sender boolean, attachments jsonb, quoted jsonb, extra jsonb,
      sent_at timestamptz, provider_chat_id text, account_type text, subject text, is_group boolean,
      attendees jsonb, preview text)
    WHERE received.dedupe_key = ANY (p_new_keys)
  ), stored AS (
    -- A placeholder left by an earlier out-of-order event is filled in, keeping what that event
    -- applied: an edited text stays the edited text, a deletion stays a deletion. A message
    -- already received is left as it is, and is not part of what was stored.
    INSERT INTO messages AS message (
      account_id, id, chat_id, provider_message_id, state, text, sender, is_sender, attachments,
      quoted, extra, sent_at)
    SELECT account_id, id, chat_id, provider_message_id, 'received', text, sender, is_sender,
      attachments, quoted, extra, sent_at
    FROM batch
    ORDER BY account_id, id
    ON CONFLICT (account_id, id) DO UPDATE SET
      state = 'received',
      chat_id = excluded.chat_id,
      provider_message_id = excluded.provider_message_id,
      sender = excluded.sender,
      is_sender = excluded.is_sender,
      attachments = CASE WHEN message.deleted_at IS NULL THEN excluded.attachments ELSE message.attachments END,
      quoted = excluded.quoted,
      extra = excluded.extra,
      sent_at = excluded.sent_at,
      text = CASE WHEN message.edited_at IS NULL AND message.deleted_at IS NULL
        THEN excluded.text ELSE message.text END,
      updated_at = now()
    WHERE message.state = 'placeholder'
    RETURNING message.account_id, message.id, message.chat_id, message.text, message.sender,
      message.is_sender, message.attachments, message.reactions, message.sent_at, message.edited_at,
      message.deleted_at, message.read_at, message.delivered_at,
      -- A fresh row has no deleting transaction; one filled in from a placeholder has ours.
      message.xmax <> 0 AS merged
  ), applied AS (
    -- The batch's messages that were stored, each with the preview of its state as stored.
    SELECT batch.ord, batch.account_id, batch.id, batch.chat_id, batch.sent_at, batch.is_sender,
      batch.provider_chat_id, batch.account_type, batch.subject, batch.is_group, batch.attendees,
      CASE WHEN stored.merged THEN hookline_message_preview(stored.text, stored.attachments)
        ELSE batch.preview END AS preview
    FROM batch JOIN stored USING (account_id, id)
  ), bumped AS (
    -- Per chat: the details of its first message in the batch, the latest message (a later
    -- arrival wins a tie) as the preview, and one unread for each message the account did not send.
    -- Unread counts add up, and the last message only moves forward in time.
    INSERT INTO chats AS chat (
      account_id, id, provider_chat_id, account_type, subject, is_group, attendees,
      last_message_at, last_message_id, last_message_preview, unread_count)
    SELECT opening.account_id, opening.chat_id, opening.provider_chat_id, opening.account_type,
      opening.subject, opening.is_group, opening.attendees, latest.sent_at, latest.id,
      latest.preview, counted.unread
    FROM (SELECT DISTINCT ON (account_id, chat_id) * FROM applied ORDER BY account_id, chat_id, ord) AS opening
    JOIN (
      SELECT DISTINCT ON (account_id, chat_id) * FROM applied ORDER BY account_id, chat_id, sent_at DESC, ord DESC
    ) AS latest USING (account_id, chat_id)
    JOIN (
      SELECT account_id, chat_id, (count(*) FILTER (WHERE NOT is_sender))::integer AS unread
      FROM applied GROUP BY account_id, chat_id
    ) AS counted USING (account_id, chat_id)
    ORDER BY opening.account_id, opening.chat_id
    ON CONFLICT (account_id, id) DO UPDATE SET
      unread_count = chat.unread_count + excluded.unread_count,
      last_message_at = greatest(chat.last_message_at, excluded.last_message_at),
      last_message_id = CASE WHEN excluded.last_message_at >= coalesce(chat.last_message_at, '-infinity')
        THEN excluded.last_message_id ELSE chat.last_message_id END,
      last_message_preview = CASE WHEN excluded.last_message_at >= coalesce(chat.last_message_at, '-infinity')
        THEN excluded.last_message_preview ELSE chat.last_message_preview END,
      provider_chat_id = coalesce(excluded.provider_chat_id, chat.provider_chat_id),
      account_type = coalesce(excluded.account_type, chat.account_type),
      subject = coalesce(excluded.subject, chat.subject),
      is_group = coalesce(excluded.is_group, chat.is_group),
      attendees = coalesce(excluded.attendees, chat.attendees),
      updated_at = now()
  )
  SELECT coalesce(json_agg(CASE WHEN NOT p_stored_rows
    THEN json_build_object('ord', batch.ord, 'merged', stored.merged)
    ELSE json_build_object(
    'ord', batch.ord, 'merged', stored.merged,
    'accountId', stored.account_id, 'id', stored.id, 'chatId', stored.chat_id, 'text', stored.text,
    'sender', stored.sender, 'isSender', stored.is_sender, 'attachments', stored.attachments,
    'reactions', stored.reactions, 'sentAt', stored.sent_at, 'editedAt', stored.edited_at,
    'deletedAt', stored.deleted_at, 'readAt', stored.read_at, 'deliveredAt', stored.delivered_at) END
    ORDER BY batch.ord), '[]')
  INTO v_stored
  FROM stored JOIN batch USING (account_id, id);

  RETURN v_stored;
END;
$$;
--> statement-breakpoint

-- As in migration 0007, with storedOrds in the result.
CREATE OR REPLACE FUNCTION hookline_ingest_received(
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
    'storedOrds', v_ords,
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
