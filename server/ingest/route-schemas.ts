import { z } from 'zod';
import { errorResponse, providerWebhookSecurity } from '../openapi/schemas.js';

/**
 * `POST /api/webhooks/unipile/messages`. The body is described as anything: the route reads it
 * as text whatever its content type, and keeps even the bodies it refuses (docs/ingest.md).
 */
export const ingestRouteSchema = {
  tags: ['ingest'],
  summary: "The provider's webhook: stored, deduped and published once committed",
  description: 'Any body up to 1 MiB, with any content type. Answers 200 only once the event is committed.',
  security: providerWebhookSecurity,
  body: z.unknown().describe('A provider webhook (JSON, read whatever the Content-Type)'),
  response: {
    200: z.object({
      ok: z.literal(true),
      duplicate: z.boolean().describe('already stored; nothing changed'),
    }),
    400: errorResponse.describe(
      'HL_ERR_INVALID_JSON or HL_ERR_INVALID_PAYLOAD; the raw body is kept as rejected',
    ),
    401: errorResponse.describe(
      'HL_ERR_UNAUTHORIZED: wrong or missing inbound secret header; nothing stored',
    ),
    413: errorResponse.describe('HL_ERR_PAYLOAD_TOO_LARGE: over 1 MiB; nothing stored'),
    503: errorResponse.describe('HL_ERR_UNAVAILABLE: database unreachable or queue full; retry'),
  },
};
