import { z } from 'zod';
import { errorResponse, errorResponses, readerSecurity } from '../openapi/schemas.js';

/** What the attachment route's path names: a stored message and one of its files. */
export const attachmentParamsSchema = z.object({
  messageId: z.string().min(1).max(512),
  attachmentId: z.string().min(1).max(512),
});

/** Which account's message, when the id exists in several. */
export const attachmentQuerySchema = z.object({ accountId: z.string().min(1).max(512).optional() });

/** The `schema` of `GET /api/messages/:messageId/attachments/:attachmentId`. */
export const attachmentRouteSchema = {
  tags: ['chats'],
  security: readerSecurity,
  summary: "A message's file, streamed from the provider",
  params: attachmentParamsSchema,
  querystring: attachmentQuerySchema,
  response: {
    200: {
      description: "The file: an image with the provider's type (inline), anything else as a download",
      content: { 'application/octet-stream': { schema: z.string() } },
    },
    400: errorResponse.describe(
      'Invalid parameters, or the message id exists in several accounts: pass accountId',
    ),
    ...errorResponses(401, 403, 404, 413, 502, 503),
  },
};
