import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerAccounts, requires } from '../http/credentials.js';
import { storableDatetime } from '../shared/storable.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { MATCH_END, MATCH_START, type MessageHit, searchChats, searchMessages } from './queries/search.js';
import { searchQuerySchema, searchRouteSchema } from './search-schemas.js';
import { chatView } from './views.js';

const searchCursorSchema = z.object({
  rank: z.number().finite(),
  sentAt: z.union([storableDatetime(), z.literal('-infinity')]),
  accountId: z.string(),
  id: z.string(),
});

/** Chats matched by name on a search's first page. */
const CHAT_HITS = 10;

/**
 * A snippet without its match marks, and where the matched words are in it: `[start, end)`
 * offsets in UTF-16 code units, as JavaScript strings count.
 */
export function splitHighlights(marked: string): { snippet: string; highlights: [number, number][] } {
  let snippet = '';
  const highlights: [number, number][] = [];
  let start = -1;
  for (const character of marked) {
    if (character === MATCH_START) start = snippet.length;
    else if (character === MATCH_END) {
      if (start >= 0 && snippet.length > start) highlights.push([start, snippet.length]);
      start = -1;
    } else snippet += character;
  }
  return { snippet, highlights };
}

const asDate = (value: Date | string | null) => (value === null ? null : new Date(value));

function hitView(hit: MessageHit) {
  const sentAt = asDate(hit.sentAt);
  return {
    accountId: hit.accountId,
    chatId: hit.chatId,
    messageId: hit.id,
    sentAt: sentAt?.toISOString() ?? null,
    sender: hit.sender ?? null,
    isSender: hit.isSender ?? false,
    ...splitHighlights(hit.snippet),
    chat: {
      subject: hit.chatSubject,
      attendees: Array.isArray(hit.chatAttendees) ? hit.chatAttendees : [],
      isGroup: hit.chatIsGroup ?? false,
      accountType: hit.chatAccountType,
    },
  };
}

/**
 * `GET /api/search?q=&accountId=`: messages ranked by relevance, then newest, keyset-paginated,
 * each with a snippet and where its matched words are; and on the first page the chats whose
 * name or people match. For the API token or a connection token, scoped like the read API.
 */
export async function searchRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/search',
    { schema: searchRouteSchema, config: requires('api', 'read') },
    async function search(request) {
      const query = searchQuerySchema.parse(request.query);
      const scope = { accountId: query.accountId, accountIds: callerAccounts(request.caller) };
      const after = decodeCursor(query.cursor, searchCursorSchema);
      const [hits, chats] = await Promise.all([
        searchMessages(app.database.db, query.q, scope, query.limit, after),
        after ? [] : searchChats(app.database.db, query.q, scope, CHAT_HITS),
      ]);
      const last = hits.at(-1);
      return {
        chats: chats.map((chat) =>
          chatView({ ...chat, lastMessageAt: asDate(chat.lastMessageAt as Date | string | null) }),
        ),
        items: hits.map(hitView),
        nextCursor:
          hits.length === query.limit && last
            ? encodeCursor({
                rank: Number(last.rank),
                sentAt: asDate(last.sentAt)?.toISOString() ?? '-infinity',
                accountId: last.accountId,
                id: last.id,
              })
            : null,
      };
    },
  );
}
