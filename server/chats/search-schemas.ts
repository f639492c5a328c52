import { z } from 'zod';
import { errorResponses, readerSecurity } from '../openapi/schemas.js';
import { pageQuerySchema } from './cursor.js';
import { chatSchema, nextCursorSchema } from './route-schemas.js';

/** `GET /api/search`: the words (web-search syntax), and a page like the other read routes. */
export const searchQuerySchema = pageQuerySchema.extend({
  q: z.string().trim().min(1).max(200).describe('words, "a phrase", or, -word (Postgres websearch syntax)'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const messageHit = z.object({
  accountId: z.string(),
  chatId: z.string(),
  messageId: z.string(),
  sentAt: z.string().nullable(),
  sender: z.unknown(),
  isSender: z.boolean(),
  snippet: z.string().describe('the text around the matches (the whole text when short)'),
  highlights: z
    .array(z.tuple([z.number(), z.number()]))
    .describe('[start, end) of each matched word in `snippet`, in UTF-16 code units'),
  chat: chatSchema.pick({ subject: true, attendees: true, isGroup: true, accountType: true }),
});

/** The `schema` of `GET /api/search`. */
export const searchRouteSchema = {
  tags: ['chats'],
  security: readerSecurity,
  summary: 'Full-text search over messages and chat names, ranked',
  querystring: searchQuerySchema,
  response: {
    200: z.object({
      chats: z.array(chatSchema).describe('chats whose subject or people match; first page only'),
      items: z.array(messageHit),
      nextCursor: nextCursorSchema,
    }),
    ...errorResponses(400, 401, 403),
  },
};
