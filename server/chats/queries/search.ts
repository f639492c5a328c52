import { inArray, type SQL, sql } from 'drizzle-orm';
import { CHAT_SEARCH_DOCUMENT } from '../../../drizzle/schema.js';
import type { ChatRecord } from '../../db/chats.js';
import type { Db, Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import { transaction } from '../../db/transaction.js';

/**
 * Full-text search over the read model (docs/api.md, "Search"): messages by their stored
 * `search_vector` (GIN index `messages_search_idx`), chats by subject and attendee names (GIN
 * index `chats_search_idx`). Queries use the `simple` configuration, as the documents do, and
 * web-search syntax: words, "quoted phrases", `or`, `-excluded`.
 */

/** Marks around matched words in a snippet (private-use characters, stripped from the text first). */
export const MATCH_START = '\uE000';
/** @see MATCH_START */
export const MATCH_END = '\uE001';

/** Which accounts a search may read: one, a token's scope, both (intersected), or all. */
export interface SearchScope {
  accountId?: string;
  /** Only these accounts (a browser's token scope); undefined for all. */
  accountIds?: string[];
}

/** Keyset position in ranked results: the last row of the previous page. */
export interface SearchCursor {
  rank: number;
  sentAt: string;
  accountId: string;
  id: string;
}

/** A message that matched, with its snippet (matched words between the MATCH_* marks). */
export interface MessageHit {
  accountId: string;
  chatId: string;
  id: string;
  sentAt: Date | null;
  sender: unknown;
  isSender: boolean | null;
  rank: number;
  snippet: string;
  chatSubject: string | null;
  chatAttendees: unknown;
  chatIsGroup: boolean | null;
  chatAccountType: string | null;
}

const query = (text: string) => sql`websearch_to_tsquery('simple'::regconfig, ${text})`;

function scopeCondition(column: SQL, scope: SearchScope): SQL {
  const conditions: SQL[] = [sql`true`];
  if (scope.accountId) conditions.push(sql`${column} = ${scope.accountId}`);
  if (scope.accountIds) conditions.push(inArray(column, scope.accountIds));
  return sql.join(conditions, sql` and `);
}

/**
 * Messages matching `text`, best first (`ts_rank_cd`, then newest), `limit` of them after
 * `after`. The ranking runs over the index's matches only; snippets are made for the page alone.
 * JIT compilation is off for it: a common word's plan costs enough to trigger it, and compiling
 * took longer than the query itself (docs/performance.md, "Search").
 */
export function searchMessages(
  db: Db,
  text: string,
  scope: SearchScope,
  limit: number,
  after?: SearchCursor,
): Promise<MessageHit[]> {
  const position = after
    ? sql`and (rank, sent_key, account_id, id) < (${after.rank}::real, ${after.sentAt}::timestamptz, ${after.accountId}, ${after.id})`
    : sql``;
  return transaction(db, async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return queryRows<MessageHit>(
      tx,
      sql`
      with q as (select ${query(text)} as query),
      ranked as (
        -- OFFSET 0 keeps the account scope out of the index scan: Postgres would otherwise AND
        -- the GIN matches with the primary key's entries of whole accounts (200,000 rows read
        -- to keep a few hundred); the matches' rows are read anyway, and the scope filters them.
        select * from (
          select m.account_id, m.id, m.chat_id, m.sent_at,
            coalesce(m.sent_at, '-infinity'::timestamptz) as sent_key,
            ts_rank_cd(m.search_vector, q.query) as rank
          from messages m, q
          where m.search_vector @@ q.query and m.state = 'received' and m.deleted_at is null
          offset 0
        ) matches
        where ${scopeCondition(sql`account_id`, scope)}
      ),
      page as (
        select * from ranked where true ${position}
        order by rank desc, sent_key desc, account_id desc, id desc
        limit ${limit}::int
      )
      select p.account_id as "accountId", p.chat_id as "chatId", p.id, p.sent_at as "sentAt",
        m.sender, m.is_sender as "isSender", p.rank,
        ts_headline('simple'::regconfig,
          translate(coalesce(m.text, ''), ${MATCH_START + MATCH_END}, ''), q.query,
          ${`StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`}
        ) as snippet,
        c.subject as "chatSubject", c.attendees as "chatAttendees", c.is_group as "chatIsGroup",
        c.account_type as "chatAccountType"
      from page p
      cross join q
      join messages m on m.account_id = p.account_id and m.id = p.id
      left join chats c on c.account_id = p.account_id and c.id = p.chat_id
      order by p.rank desc, p.sent_key desc, p.account_id desc, p.id desc`,
    );
  });
}

/** Chats whose subject or attendee names match `text`, best first, at most `limit`. */
export function searchChats(
  db: Executor,
  text: string,
  scope: SearchScope,
  limit: number,
): Promise<ChatRecord[]> {
  return queryRows<ChatRecord>(
    db,
    sql`
      select account_id as "accountId", id, provider_chat_id as "providerChatId",
        account_type as "accountType", subject, is_group as "isGroup", attendees,
        last_message_at as "lastMessageAt", last_message_id as "lastMessageId",
        last_message_preview as "lastMessagePreview", unread_count as "unreadCount",
        created_at as "createdAt", updated_at as "updatedAt"
      from chats, (select ${query(text)} as query) q
      where ${CHAT_SEARCH_DOCUMENT} @@ q.query and ${scopeCondition(sql`account_id`, scope)}
      order by ts_rank(${CHAT_SEARCH_DOCUMENT}, q.query) desc, last_message_at desc nulls last,
        account_id, id
      limit ${limit}::int`,
  );
}
