import { z } from 'zod';
import { SEND_FAILURE_REASONS } from '../events/index.js';
import { errorResponse, errorResponses, readerSecurity } from '../openapi/schemas.js';
import { isPathSafeId, PATH_UNSAFE_ID_MESSAGE } from '../shared/path-segment.js';
import { pageQuerySchema } from './cursor.js';

/** What a request's path names: one chat (its provider id). */
export const chatParamsSchema = z.object({
  chatId: z.string().min(1).max(512).refine(isPathSafeId, { error: PATH_UNSAFE_ID_MESSAGE }),
});

/** `POST /api/chats/:chatId/read`: which account's chat, when the id exists in several. */
export const readBodySchema = z.object({ accountId: z.string().min(1).max(512).optional() }).nullish();

const isoDate = z.string().describe('ISO 8601');

/** A chat as the read API and search return it (./views.ts). */
export const chatSchema = z.object({
  accountId: z.string(),
  chatId: z.string(),
  accountType: z.string().nullable(),
  subject: z.string().nullable(),
  isGroup: z.boolean(),
  attendees: z.array(z.unknown()),
  lastMessageAt: isoDate.nullable(),
  lastMessageId: z.string().nullable(),
  lastMessagePreview: z.string().nullable(),
  unreadCount: z.number(),
});

/** A message as the read API returns it: the `message:new` envelope's data and its later state. */
const message = z.object({
  accountId: z.string(),
  chatId: z.string(),
  messageId: z.string(),
  text: z.string().nullable(),
  sender: z
    .object({
      id: z.string().nullable(),
      name: z.string().nullable(),
      providerId: z.string().nullable(),
      profileUrl: z.string().nullable(),
    })
    .nullable(),
  isSender: z.boolean(),
  attachments: z.array(z.unknown()),
  sentAt: isoDate.nullable(),
  reactions: z.array(z.unknown()),
  quoted: z.unknown(),
  editedAt: isoDate.nullable(),
  deletedAt: isoDate.nullable(),
  readAt: isoDate.nullable(),
  deliveredAt: isoDate.nullable(),
  localId: z.string().optional().describe('a message sent through Hookline (docs/sending.md)'),
  status: z.enum(['pending', 'sent', 'failed', 'unknown']).optional(),
  reason: z.enum(SEND_FAILURE_REASONS).optional().describe('with status `failed`: why, as a stable code'),
  error: z.string().optional().describe('with status `failed`: why, in words'),
});

/** The cursor of a page of the read API and search. */
export const nextCursorSchema = z
  .string()
  .nullable()
  .describe('pass back as `cursor` for the next page; null on the last');
const chats = { tags: ['chats'], security: readerSecurity };

/** The `schema` of each read route. */
export const chatsRouteSchemas = {
  listChats: {
    ...chats,
    summary: 'Chats by last message, with unread counts',
    querystring: pageQuerySchema,
    response: {
      200: z.object({ items: z.array(chatSchema), nextCursor: nextCursorSchema }),
      ...errorResponses(400, 401, 403),
    },
  },
  listMessages: {
    ...chats,
    summary: "A chat's messages, newest first",
    params: chatParamsSchema,
    querystring: pageQuerySchema,
    response: {
      200: z.object({ items: z.array(message), nextCursor: nextCursorSchema }),
      400: errorResponse.describe('Invalid query, or the chat id exists in several accounts: pass accountId'),
      ...errorResponses(401, 403, 404),
    },
  },
  markRead: {
    ...chats,
    summary: 'Mark a chat read (publishes chat:read)',
    params: chatParamsSchema,
    body: readBodySchema,
    response: { 200: z.object({ items: z.array(chatSchema) }), ...errorResponses(400, 401, 403, 404) },
  },
};
