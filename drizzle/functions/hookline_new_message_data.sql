-- owner: ingest
-- hookline_new_message_data: the `data` of a stored message's `message:new` envelope, the same
-- object as newMessageData in server/events/data.ts (test/server/events/sql-envelopes.test.ts
-- compares the two): editedAt and deletedAt appear only when set, and times are ISO 8601 in UTC
-- with milliseconds, as JavaScript's toISOString writes them.
CREATE OR REPLACE FUNCTION hookline_new_message_data(
  p_account_id text, p_chat_id text, p_id text, p_text text, p_sender jsonb, p_is_sender boolean,
  p_attachments jsonb, p_sent_at timestamptz, p_edited_at timestamptz, p_deleted_at timestamptz)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
      'accountId', p_account_id, 'chatId', p_chat_id, 'messageId', p_id, 'text', p_text,
      'sender', p_sender, 'isSender', coalesce(p_is_sender, false), 'attachments', p_attachments,
      'sentAt', to_char(p_sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    || CASE WHEN p_edited_at IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
      'editedAt', to_char(p_edited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END
    || CASE WHEN p_deleted_at IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
      'deletedAt', to_char(p_deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END
$$;
