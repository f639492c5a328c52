import { and, eq, sql } from 'drizzle-orm';
import { chats } from '../../drizzle/schema.js';
import type { Executor, Tx } from './database.js';

/** A row of `chats`, as drizzle reads it. */
export type ChatRecord = typeof chats.$inferSelect;

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

/** What the provider says of a chat, for {@link fillChatDetails}. */
export interface ChatDetailsUpdate {
  providerChatId: string | null;
  accountType: string | null;
  subject: string | null;
  isGroup: boolean | null;
  attendees: unknown[];
}

/**
 * Fills in a stored chat from the provider's view of it: its name, kind and attendees replace
 * what the webhooks left empty (a null, or no attendees), and nothing they did carry.
 * @returns the chat as it is now, or undefined when it is not stored (yet).
 */
export async function fillChatDetails(
  db: Executor,
  key: { accountId: string; chatId: string },
  details: ChatDetailsUpdate,
): Promise<ChatRecord | undefined> {
  const attendees = details.attendees.length > 0 ? JSON.stringify(details.attendees) : null;
  const [row] = await db
    .update(chats)
    .set({
      providerChatId: sql`coalesce(${chats.providerChatId}, ${details.providerChatId})`,
      accountType: sql`coalesce(${chats.accountType}, ${details.accountType})`,
      subject: sql`coalesce(${chats.subject}, ${details.subject})`,
      isGroup: sql`coalesce(${chats.isGroup}, ${details.isGroup}::boolean)`,
      attendees: sql`case when ${chats.attendees} is null or ${chats.attendees} = '[]'::jsonb
        then coalesce(${attendees}::jsonb, ${chats.attendees}) else ${chats.attendees} end`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(chats.accountId, key.accountId), eq(chats.id, key.chatId)))
    .returning();
  return row;
}
