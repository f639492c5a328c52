import { getTableColumns } from 'drizzle-orm';
import { messages } from '../../drizzle/schema.js';

/** A row of `messages`, as drizzle reads it (without its search document, which only search reads). */
export type MessageRecord = Omit<typeof messages.$inferSelect, 'searchVector'>;
const { searchVector: _searchDocument, ...messageColumns } = getTableColumns(messages);
/** Every column of `messages` but its search document: what reads of whole messages select. */
export const MESSAGE_COLUMNS = messageColumns;
/**
 * What a follow-up write returns (server/ingest/queries/message-changes.ts): the columns envelopes carry
 * (server/events/data.ts).
 * Returning only these, not whole rows with their provider extras, keeps result parsing off the
 * hot path.
 */
export const MESSAGE_STATE_COLUMNS = {
  accountId: messages.accountId,
  id: messages.id,
  chatId: messages.chatId,
  text: messages.text,
  sender: messages.sender,
  isSender: messages.isSender,
  attachments: messages.attachments,
  reactions: messages.reactions,
  sentAt: messages.sentAt,
  editedAt: messages.editedAt,
  deletedAt: messages.deletedAt,
  readAt: messages.readAt,
  deliveredAt: messages.deliveredAt,
};
/** The columns a write returns: what a message envelope needs. */
export type MessageState = Pick<MessageRecord, keyof typeof MESSAGE_STATE_COLUMNS>;
