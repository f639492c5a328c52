const PREVIEW_LENGTH = 200;

/**
 * The chat list's preview of a message: its text, cut at 200 with an ellipsis; else
 * `[attachment]` when it has any; else null (as `hookline_message_preview` in SQL, which the store
 * statement uses for a placeholder it fills in).
 */
export function messagePreview(text: string | null, attachments: unknown): string | null {
  if (text) return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}…` : text;
  return Array.isArray(attachments) && attachments.length > 0 ? '[attachment]' : null;
}
