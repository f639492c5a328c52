import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { chats } from '../../drizzle/schema.js';
import type { Executor, Tx } from './database.js';
import { preparedName, recordsetRows } from './recordset.js';

export type ChatRecord = typeof chats.$inferSelect;

/** One chat's share of a batch of new messages. */
export interface ChatActivity {
  accountId: string;
  id: string;
  providerChatId: string | null;
  accountType: string | null;
  subject: string | null;
  isGroup: boolean | null;
  attendees: unknown;
  lastMessageAt: Date;
  lastMessageId: string;
  lastMessagePreview: string | null;
  /** New messages not sent by the account itself. */
  unreadIncrement: number;
}

/**
 * Creates or bumps chats for new messages: unread counts add up, and the last message moves
 * only forward in time (an old message arriving late does not become the preview). Rows are
 * sorted so concurrent batches lock chats in the same order.
 */
export async function upsertChatActivity(tx: Tx, rows: ChatActivity[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) =>
    a.accountId === b.accountId
      ? a.id < b.id
        ? -1
        : a.id > b.id
          ? 1
          : 0
      : a.accountId < b.accountId
        ? -1
        : 1,
  );
  const newer = sql`excluded.last_message_at >= coalesce(${chats.lastMessageAt}, '-infinity'::timestamptz)`;
  const recordset = recordsetRows(
    chats,
    sorted.map(({ unreadIncrement, ...row }) => ({ ...row, unreadCount: unreadIncrement })),
  );
  await tx
    .insert(chats)
    .select(recordset.source)
    .onConflictDoUpdate({
      target: [chats.accountId, chats.id],
      set: {
        unreadCount: sql`${chats.unreadCount} + excluded.unread_count`,
        lastMessageAt: sql`greatest(${chats.lastMessageAt}, excluded.last_message_at)`,
        lastMessageId: sql`case when ${newer} then excluded.last_message_id else ${chats.lastMessageId} end`,
        lastMessagePreview: sql`case when ${newer} then excluded.last_message_preview else ${chats.lastMessagePreview} end`,
        providerChatId: sql`coalesce(excluded.provider_chat_id, ${chats.providerChatId})`,
        accountType: sql`coalesce(excluded.account_type, ${chats.accountType})`,
        subject: sql`coalesce(excluded.subject, ${chats.subject})`,
        isGroup: sql`coalesce(excluded.is_group, ${chats.isGroup})`,
        attendees: sql`coalesce(excluded.attendees, ${chats.attendees})`,
        updatedAt: sql`now()`,
      },
    })
    .prepare(preparedName('upsert_chat_activity', recordset))
    .execute();
}

/** Keyset position in the chat list: the last row of the previous page. */
export interface ChatCursor {
  lastMessageAt: string;
  accountId: string;
  id: string;
}

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
