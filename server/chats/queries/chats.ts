import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { chats } from '../../../drizzle/schema.js';
import type { ChatRecord } from '../../db/chats.js';
import type { Executor, Tx } from '../../db/database.js';

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
