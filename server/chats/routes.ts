import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { transaction } from '../db/transaction.js';
import { HooklineError } from '../errors.js';
import { Envelopes } from '../events/index.js';
import { callerAccounts, requires } from '../http/credentials.js';
import { publish } from '../outbound/index.js';
import { queueReadMarks } from '../read-status/index.js';
import { storableDatetime } from '../shared/storable.js';
import { attachmentRoutes } from './attachments-route.js';
import { decodeCursor, encodeCursor, pageQuerySchema } from './cursor.js';
import { findChats, listChats, lockUnreadChats, markChatRead } from './queries/chats.js';
import { listChatMessages } from './queries/messages.js';
import { chatParamsSchema, chatsRouteSchemas, readBodySchema } from './route-schemas.js';
import { searchRoutes } from './search-routes.js';
import { chatView, messageView } from './views.js';

const chatCursorSchema = z.object({
  lastMessageAt: storableDatetime(),
  accountId: z.string(),
  id: z.string(),
});
const messageCursorSchema = z.object({ sentAt: storableDatetime(), id: z.string() });

/**
 * The inbox read model: chats by last message with unread counts, a
 * chat's messages newest first, and marking a chat read (in every tab through `chat:read`, and at
 * the provider through the `read_marks` queue), plus search and attachments. Pagination is keyset-based, so pages
 * stay consistent while new messages arrive.
 *
 * Every read route accepts the API token (the host app's backend, every account) or a connection
 * token (a browser, only the accounts in its token): the browser loads its first page with the
 * token its socket uses, and never sees API_TOKEN.
 */
export async function chatsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(searchRoutes);
  await app.register(attachmentRoutes);

  app.get(
    '/api/chats',
    { schema: chatsRouteSchemas.listChats, config: requires('api', 'read') },
    async function listChatPage(request) {
      const query = pageQuerySchema.parse(request.query);
      const rows = await listChats(app.database.db, {
        limit: query.limit,
        accountId: query.accountId,
        accountIds: callerAccounts(request.caller),
        after: decodeCursor(query.cursor, chatCursorSchema),
      });
      const last = rows.at(-1);
      return {
        items: rows.map(chatView),
        nextCursor:
          rows.length === query.limit && last?.lastMessageAt
            ? encodeCursor({
                lastMessageAt: last.lastMessageAt.toISOString(),
                accountId: last.accountId,
                id: last.id,
              })
            : null,
      };
    },
  );

  app.get(
    '/api/chats/:chatId/messages',
    { schema: chatsRouteSchemas.listMessages, config: requires('api', 'read') },
    async function listMessagePage(request) {
      const { chatId } = chatParamsSchema.parse(request.params);
      const query = pageQuerySchema.parse(request.query);
      const matches = await findChats(app.database.db, chatId, {
        accountId: query.accountId,
        accountIds: callerAccounts(request.caller),
      });
      if (matches.length === 0) throw new HooklineError('HL_ERR_NOT_FOUND', `No chat ${chatId}`);
      if (matches.length > 1) {
        throw new HooklineError(
          'HL_ERR_INVALID_REQUEST',
          'This chat id exists in several accounts: pass accountId',
          {
            details: { accountIds: matches.map((chat) => chat.accountId) },
          },
        );
      }
      const rows = await listChatMessages(app.database.db, {
        accountId: matches[0]!.accountId,
        chatId,
        limit: query.limit,
        before: decodeCursor(query.cursor, messageCursorSchema),
      });
      const last = rows.at(-1);
      return {
        items: rows.map(messageView),
        nextCursor:
          rows.length === query.limit && last?.sentAt
            ? encodeCursor({ sentAt: last.sentAt.toISOString(), id: last.id })
            : null,
      };
    },
  );

  app.post(
    '/api/chats/:chatId/read',
    { schema: chatsRouteSchemas.markRead, config: requires('api', 'read') },
    async function markChatsRead(request) {
      const { chatId } = chatParamsSchema.parse(request.params);
      const accountId = readBodySchema.parse(request.body)?.accountId;
      const { updated, published } = await transaction(app.database.db, async (tx) => {
        const filter = { accountId, accountIds: callerAccounts(request.caller) };
        // Only chats that had unread messages change: they alone are marked read at the provider
        // and published (reading a chat twice publishes once, as a provider message_read does).
        const unread = await lockUnreadChats(tx, chatId, filter);
        await queueReadMarks(tx, unread);
        const chats = await markChatRead(tx, chatId, filter);
        const envelopes = new Envelopes();
        for (const chat of unread) {
          envelopes.add('chat:read', chat.accountId, {
            accountId: chat.accountId,
            chatId: chat.chatId,
            unreadCount: 0,
          });
        }
        return { updated: chats, published: await publish(tx, envelopes) };
      });
      if (updated.length === 0) throw new HooklineError('HL_ERR_NOT_FOUND', `No chat ${chatId}`);
      app.changes.emit(published);
      app.readStatus.wake();
      return { items: updated.map(chatView) };
    },
  );
}
