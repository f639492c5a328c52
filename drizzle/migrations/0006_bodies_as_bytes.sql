-- Raw bodies travel as bytes, and outbound envelopes are parsed only when an endpoint wants them.
--
-- Until now each raw body rode inside the p_inbound JSON as an escaped string: the gateway escaped
-- every quote of it, and Postgres lexed it back character by character. With the jsonb parameter
-- of outbound envelopes, parsed even when no endpoint is enabled, that was about a quarter of
-- Postgres's CPU during `npm run bench:ingest` (perf: pg_parse_json and json_lex).
--
-- p_bodies is every body of the batch, UTF-8, back to back, as one bytea parameter, which
-- node-postgres sends in binary: nothing parses it. Each p_inbound row names its body by byte
-- offset (body_start, from 0) and length (body_length). p_outbound is text, cast to jsonb only
-- when an endpoint is enabled.
--
-- The work is split into two functions so that a later change can replace one without restating
-- the other: hookline_record_bodies and hookline_apply_received. The functions of migrations 0003
-- and 0005 stay, unchanged, for instances still running the previous release during a rolling
-- upgrade.

-- Records a batch's bodies, skipping those whose dedupe key is already stored (the unique index
-- decides, so concurrent batches and instances agree). Returns the dedupe keys this call recorded.
--
-- p_inbound: [{ provider, event, dedupe_key, account_id, status, body_start, body_length, error }],
--            every body of the batch, in arrival order.
CREATE FUNCTION hookline_record_bodies(p_bodies bytea, p_inbound json)
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
--> statement-breakpoint

-- Migration 0005's hookline_ingest_messages after its first statement: applies the received
-- messages whose dedupe key is in p_new_keys (accounts with new details, messages, the chats they
-- bump) and returns the stored messages in arrival order, as { ord, merged } or, with
-- p_stored_rows, with the columns envelopes carry.
CREATE FUNCTION hookline_apply_received(
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
    -- applied: an edited text stays the edited text, a deletion stays a deletion.
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
    FROM (SELECT DISTINCT ON (account_id, chat_id) * FROM batch ORDER BY account_id, chat_id, ord) AS opening
    JOIN (
      SELECT DISTINCT ON (account_id, chat_id) * FROM batch ORDER BY account_id, chat_id, sent_at DESC, ord DESC
    ) AS latest USING (account_id, chat_id)
    JOIN (
      SELECT account_id, chat_id, (count(*) FILTER (WHERE NOT is_sender))::integer AS unread
      FROM batch GROUP BY account_id, chat_id
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

-- The transaction path's form: { newKeys, messages } with full rows, as migration 0003's.
CREATE FUNCTION hookline_ingest_messages(p_bodies bytea, p_inbound json, p_accounts json, p_messages json)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_new_keys text[];
BEGIN
  v_new_keys := hookline_record_bodies(p_bodies, p_inbound);
  RETURN json_build_object(
    'newKeys', v_new_keys,
    'messages', hookline_apply_received(v_new_keys, p_accounts, p_messages, true));
END;
$$;
--> statement-breakpoint

-- As in migration 0005, with the bodies as bytes and p_outbound as text.
CREATE FUNCTION hookline_ingest_received(
  p_bodies bytea,
  p_inbound json,
  p_accounts json,
  p_messages json,
  p_outbound text,
  p_realtime jsonb,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text
) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_new_keys text[];
  v_stored json;
  v_ords bigint[];
  v_published record;
BEGIN
  v_new_keys := hookline_record_bodies(p_bodies, p_inbound);
  v_stored := hookline_apply_received(v_new_keys, p_accounts, p_messages, false);
  IF EXISTS (SELECT 1 FROM json_array_elements(v_stored) AS stored WHERE (stored->>'merged')::boolean) THEN
    RAISE EXCEPTION 'a message filled in a placeholder' USING ERRCODE = 'HL409';
  END IF;
  SELECT coalesce(array_agg((stored->>'ord')::bigint + 1), '{}') INTO v_ords
  FROM json_array_elements(v_stored) AS stored;

  SELECT deliveries, realtime_seq INTO v_published
  FROM hookline_publish_envelopes(
    CASE WHEN EXISTS (SELECT 1 FROM endpoints WHERE enabled) THEN
      (SELECT coalesce(jsonb_agg(envelope.value ORDER BY envelope.ord), '[]')
       FROM jsonb_array_elements(p_outbound::jsonb) WITH ORDINALITY AS envelope(value, ord)
       WHERE envelope.ord = ANY (v_ords))
    ELSE '[]'::jsonb END,
    (SELECT coalesce(jsonb_agg(envelope.value ORDER BY envelope.ord), '[]')
     FROM jsonb_array_elements(p_realtime) WITH ORDINALITY AS envelope(value, ord)
     WHERE envelope.ord = ANY (v_ords)),
    p_realtime_lock, p_realtime_channel, p_deliveries_channel);

  RETURN json_build_object(
    'newKeys', v_new_keys,
    'deliveries', v_published.deliveries,
    'realtimeSeq', v_published.realtime_seq);
END;
$$;
