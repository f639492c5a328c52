-- owner: ingest
-- hookline_apply_received: applies a batch's received messages whose dedupe key is in p_new_keys
-- (the keys hookline_record_bodies recorded) and returns each message it stored, as stored, in
-- arrival order.
--
-- - Accounts with new details are upserted; an unchanged row is not rewritten.
-- - A message is stored once per (account, message id). A placeholder left by an earlier
--   out-of-order event (an edit, reaction, read or deletion that came first) is filled in,
--   keeping what that event applied: an edited text stays the edited text, a deletion stays a
--   deletion. A message already received is left as it is and is not returned.
-- - Each chat is bumped once per batch, by the messages stored only: the details of its first
--   message in the batch, one unread per message the account did not send, and the latest message
--   (a later arrival wins a tie) as the preview, showing a filled-in placeholder's merged state.
--   Unread counts add up; the last message only moves forward in time.
--
-- p_accounts and p_messages: the columns are server/db/ingest-parameters.ts's accountRecord and
-- messageRecord (test/server/db/ingest-parameters.test.ts checks that they agree).
CREATE OR REPLACE FUNCTION hookline_apply_received(p_new_keys text[], p_accounts json, p_messages json)
RETURNS TABLE (
  ord integer, account_id text, id text, chat_id text, text text, sender jsonb, is_sender boolean,
  attachments jsonb, sent_at timestamptz, edited_at timestamptz, deleted_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  INSERT INTO accounts AS account (id, provider, account_type, user_id)
  SELECT seen.id, seen.provider, seen.account_type, seen.user_id
  FROM json_to_recordset(p_accounts) AS seen(id text, provider text, account_type text, user_id text)
  ORDER BY seen.id
  ON CONFLICT (id) DO UPDATE SET
    account_type = coalesce(excluded.account_type, account.account_type),
    user_id = coalesce(excluded.user_id, account.user_id),
    updated_at = now()
  WHERE excluded.user_id IS DISTINCT FROM account.user_id AND excluded.user_id IS NOT NULL
    OR excluded.account_type IS DISTINCT FROM account.account_type AND excluded.account_type IS NOT NULL;

  RETURN QUERY
  WITH batch AS (
    SELECT received.*
    FROM json_to_recordset(p_messages) AS received(
      ord integer, dedupe_key text, account_id text, id text, chat_id text, provider_message_id text,
      text text, sender jsonb, is_sender boolean, attachments jsonb, quoted jsonb, extra jsonb,
      sent_at timestamptz, provider_chat_id text, account_type text, subject text, is_group boolean,
      attendees jsonb, preview text)
    WHERE received.dedupe_key = ANY (p_new_keys)
  ), stored AS (
    INSERT INTO messages AS message (
      account_id, id, chat_id, provider_message_id, state, text, sender, is_sender, attachments,
      quoted, extra, sent_at)
    SELECT batch.account_id, batch.id, batch.chat_id, batch.provider_message_id, 'received',
      batch.text, batch.sender, batch.is_sender, batch.attachments, batch.quoted, batch.extra,
      batch.sent_at
    FROM batch
    ORDER BY batch.account_id, batch.id
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
      message.is_sender, message.attachments, message.sent_at, message.edited_at, message.deleted_at,
      -- A fresh row has no deleting transaction; one filled in from a placeholder has ours.
      message.xmax <> 0 AS merged
  ), applied AS (
    -- The batch's messages that were stored, each with the preview of its state as stored.
    SELECT batch.ord, batch.account_id, batch.id, batch.chat_id, batch.sent_at, batch.is_sender,
      batch.provider_chat_id, batch.account_type, batch.subject, batch.is_group, batch.attendees,
      CASE WHEN stored.merged THEN hookline_message_preview(stored.text, stored.attachments)
        ELSE batch.preview END AS preview
    FROM batch JOIN stored ON stored.account_id = batch.account_id AND stored.id = batch.id
  ), bumped AS (
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
  SELECT batch.ord, stored.account_id, stored.id, stored.chat_id, stored.text, stored.sender,
    stored.is_sender, stored.attachments, stored.sent_at, stored.edited_at, stored.deleted_at
  FROM stored JOIN batch ON batch.account_id = stored.account_id AND batch.id = stored.id
  ORDER BY batch.ord;
END;
$$;
