-- owner: db
-- hookline_message_preview: the chat list's preview of a message, as the gateway writes it
-- (server/ingest/preview.ts): the text, cut at 200 characters with an ellipsis; else
-- "[attachment]" when it has any; else null.
CREATE OR REPLACE FUNCTION hookline_message_preview(p_text text, p_attachments jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN coalesce(p_text, '') <> '' THEN
      CASE WHEN char_length(p_text) > 200 THEN left(p_text, 200) || '…' ELSE p_text END
    WHEN jsonb_typeof(p_attachments) = 'array' AND jsonb_array_length(p_attachments) > 0 THEN '[attachment]'
  END
$$;
