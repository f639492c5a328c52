import { and, eq, sql } from 'drizzle-orm';
import { chats } from '../../../drizzle/schema.js';
import type { ChatRecord } from '../../db/chats.js';
import type { Tx } from '../../db/database.js';

/**
 * Clears the unread count of one chat the account read elsewhere (a provider `message_read` of a
 * received message). @returns the chat when it had unread messages, else undefined.
 */
export async function clearUnread(
  tx: Tx,
  key: { accountId: string; chatId: string },
): Promise<ChatRecord | undefined> {
  const [row] = await tx
    .update(chats)
    .set({ unreadCount: 0, updatedAt: sql`now()` })
    .where(and(eq(chats.accountId, key.accountId), eq(chats.id, key.chatId), sql`${chats.unreadCount} > 0`))
    .returning();
  return row;
}

/** Which chat and message a preview belongs to. */
export interface LastMessageKey {
  accountId: string;
  chatId: string;
  messageId: string;
}

/**
 * Sets a chat's preview to `preview` if `messageId` is still its last message: the chat list
 * follows an edit or a deletion of the message it shows.
 */
export async function updateLastMessagePreview(
  tx: Tx,
  key: LastMessageKey,
  preview: string | null,
): Promise<void> {
  await tx
    .update(chats)
    .set({ lastMessagePreview: preview, updatedAt: sql`now()` })
    .where(
      and(
        eq(chats.accountId, key.accountId),
        eq(chats.id, key.chatId),
        eq(chats.lastMessageId, key.messageId),
      ),
    );
}
