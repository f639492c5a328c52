import { z } from 'zod';
import { errorResponses, readerSecurity } from '../openapi/schemas.js';
import { isPathSafeId, PATH_UNSAFE_ID_MESSAGE } from '../shared/path-segment.js';
import { storableText } from '../shared/storable.js';

/** Longest text one send takes (characters). */
export const MAX_SEND_TEXT = 20_000;

/** The chat a send goes to (its provider id): one path segment of the provider's URL. */
export const chatParams = z.object({
  chatId: z.string().min(1).max(512).refine(isPathSafeId, { error: PATH_UNSAFE_ID_MESSAGE }),
});

/** The stored reply a retry re-queues. */
export const retryParams = chatParams.extend({
  localId: z.string().min(1).max(100).refine(isPathSafeId, { error: PATH_UNSAFE_ID_MESSAGE }),
});

/** `POST /api/chats/:chatId/messages`. */
export const sendBody = z.strictObject({
  accountId: z.string().min(1).max(512).transform(storableText),
  text: z.string().trim().min(1).max(MAX_SEND_TEXT).transform(storableText),
  quoteId: z.string().min(1).max(512).transform(storableText).optional(),
});

/** The optional `Idempotency-Key` header. */
export const idempotencyKey = z.string().min(1).max(255).optional();

const sentMessage = z
  .looseObject({
    localId: z.string(),
    messageId: z.string().nullable().describe("the provider's id, null until it is known"),
    status: z.enum(['pending', 'sent', 'failed', 'unknown']),
  })
  .describe('The stored reply, shaped like `message:new` data (docs/sending.md)');

const account = z.object({
  accountId: z.string(),
  provider: z.string().nullable(),
  accountType: z.string().nullable(),
  status: z.string().nullable(),
  statusReceivedAt: z.string().nullable().describe('ISO 8601'),
});

const sending = { tags: ['sending'], security: readerSecurity };

/** The `schema` of each sending route: what its handler parses, and its answers. */
export const sendRouteSchemas = {
  send: {
    ...sending,
    summary: 'Send a reply through the provider: stored at once as pending, then sent by the queue',
    description:
      'JSON, or multipart/form-data with the same fields and files in repeated `attachments` parts, ' +
      'within SEND_ATTACHMENT_MAX_BYTES per file, SEND_ATTACHMENT_MAX_FILES files and ' +
      'SEND_ATTACHMENTS_MAX_TOTAL_BYTES in all (413 beyond; docs/sending.md).',
    consumes: ['application/json', 'multipart/form-data'],
    params: chatParams,
    headers: z.looseObject({ 'idempotency-key': idempotencyKey }),
    body: sendBody,
    response: { 202: sentMessage, ...errorResponses(400, 401, 403, 404, 409, 413, 429, 503) },
  },
  retry: {
    ...sending,
    summary: 'Re-queue a failed reply (the same stored message)',
    params: retryParams,
    response: { 202: sentMessage, ...errorResponses(401, 403, 404, 409, 429, 503) },
  },
  accounts: {
    ...sending,
    tags: ['chats'],
    summary: 'Accounts with their last status, scoped like the chats',
    response: { 200: z.object({ items: z.array(account) }), ...errorResponses(401, 429) },
  },
};
