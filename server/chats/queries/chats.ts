import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { chats } from '../../../drizzle/schema.js';
import type { Executor, Tx } from '../../db/database.js';

/** A row of `chats`, as drizzle reads it. */
export type ChatRecord = typeof chats.$inferSelect;

/** Keyset position in the chat list: the last row of the previous page. */
export interface ChatCursor {
  lastMessageAt: string;
  accountId: string;
  id: string;
}

/** One page of the chat list, newest activity first. */
export interface ListChatsQuery {
  limit: number;
  accountId?: string;
  /** Only these accounts (a browser's token scope); undefined for all. */
  accountIds?: string[];
  after?: ChatCursor;
}

/** Which accounts' chats a query may touch: one account, a scope, both (intersected), or all. */
export interface AccountFilter {
  accountId?: string;
  accountIds?: string[];
}

function accountConditions(filter: AccountFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.accountId) conditions.push(eq(chats.accountId, filter.accountId));
  if (filter.accountIds) conditions.push(inArray(chats.accountId, filter.accountIds));
  return conditions;
}

/** Chats by most recent message first, then by account and id, so pages never overlap or skip. */
export function listChats(db: Executor, query: ListChatsQuery): Promise<ChatRecord[]> {
  const conditions = [sql`${chats.lastMessageAt} is not null`, ...accountConditions(query)];
  if (query.after) {
    conditions.push(
      sql`(${chats.lastMessageAt}, ${chats.accountId}, ${chats.id}) < (${query.after.lastMessageAt}::timestamptz, ${query.after.accountId}, ${query.after.id})`,
    );
  }
  return db
    .select()
    .from(chats)
    .where(and(...conditions))
    .orderBy(desc(chats.lastMessageAt), desc(chats.accountId), desc(chats.id))
    .limit(query.limit);
}

/** The chats with this id (one per account that has it) within `filter`. */
export function findChats(db: Executor, chatId: string, filter: AccountFilter = {}): Promise<ChatRecord[]> {
  return db
    .select()
    .from(chats)
    .where(and(eq(chats.id, chatId), ...accountConditions(filter)));
}

/** Sets a chat's unread count to zero within `filter`. @returns the chats that were updated. */
export function markChatRead(tx: Tx, chatId: string, filter: AccountFilter = {}): Promise<ChatRecord[]> {
  return tx
    .update(chats)
    .set({ unreadCount: 0, updatedAt: sql`now()` })
    .where(and(eq(chats.id, chatId), ...accountConditions(filter)))
    .returning();
}

/** The chats with this id within `filter` that have unread messages, locked until the transaction ends. */
export function lockUnreadChats(tx: Tx, chatId: string, filter: AccountFilter = {}) {
  return tx
    .select({ accountId: chats.accountId, chatId: chats.id })
    .from(chats)
    .where(and(eq(chats.id, chatId), sql`${chats.unreadCount} > 0`, ...accountConditions(filter)))
    .for('update');
}

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
