import { and, desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import { messages } from '../../drizzle/schema.js';
import type { Executor } from './database.js';

/** A row of `messages`, as drizzle reads it (without its search document, which only search reads). */
export type MessageRecord = Omit<typeof messages.$inferSelect, 'searchVector'>;
const { searchVector: _searchDocument, ...messageColumns } = getTableColumns(messages);
/** Every column of `messages` but its search document: what reads of whole messages select. */
export const MESSAGE_COLUMNS = messageColumns;
/**
 * What a follow-up write returns (server/ingest/message-changes.ts): the columns envelopes carry
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

/** Keyset position in a chat's messages: the last row of the previous page. */
export interface MessageCursor {
  sentAt: string;
  id: string;
}

/** One page of a chat's messages, older than `before` when given. */
export interface ListChatMessagesQuery {
  accountId: string;
  chatId: string;
  limit: number;
  before?: MessageCursor;
}

/** A chat's received messages, newest first (placeholders are not messages yet). */
export function listChatMessages(db: Executor, query: ListChatMessagesQuery): Promise<MessageRecord[]> {
  const conditions = [
    eq(messages.accountId, query.accountId),
    eq(messages.chatId, query.chatId),
    eq(messages.state, 'received'),
  ];
  if (query.before) {
    conditions.push(
      sql`(${messages.sentAt}, ${messages.id}) < (${query.before.sentAt}::timestamptz, ${query.before.id})`,
    );
  }
  return db
    .select(MESSAGE_COLUMNS)
    .from(messages)
    .where(and(...conditions))
    .orderBy(desc(messages.sentAt), desc(messages.id))
    .limit(query.limit);
}

/** A stored message's files, as the attachment route checks them. */
export interface MessageFiles {
  accountId: string;
  chatId: string;
  attachments: unknown;
}

/** The received, not deleted, messages with this id within the accounts allowed (one per account that has it). */
export function findMessageFiles(
  db: Executor,
  messageId: string,
  filter: { accountId?: string; accountIds?: string[] },
): Promise<MessageFiles[]> {
  const conditions = [
    eq(messages.id, messageId),
    eq(messages.state, 'received'),
    sql`${messages.deletedAt} is null`,
  ];
  if (filter.accountId) conditions.push(eq(messages.accountId, filter.accountId));
  if (filter.accountIds) conditions.push(inArray(messages.accountId, filter.accountIds));
  return db
    .select({ accountId: messages.accountId, chatId: messages.chatId, attachments: messages.attachments })
    .from(messages)
    .where(and(...conditions))
    .limit(10);
}
