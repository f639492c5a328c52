import { z } from 'zod';
import { apiTokenSecurity, errorResponse, errorResponses } from '../openapi/schemas.js';

/** `POST /api/realtime/tokens`, with the body schema its handler parses (it depends on configuration). */
export function tokenRouteSchema(body: z.ZodType) {
  return {
    tags: ['realtime'],
    summary: "Mint a browser's connection token for some accounts",
    security: apiTokenSecurity,
    body,
    response: {
      200: z.object({
        token: z.string(),
        expiresAt: z.string().describe('ISO 8601'),
        accountIds: z.array(z.string()),
        scopes: z.array(z.enum(['read', 'send'])),
      }),
      ...errorResponses(400, 401),
    },
  };
}

/** `POST /api/realtime/tokens/refresh`: a valid connection token mints its successor. */
export const refreshRouteSchema = {
  tags: ['realtime'],
  summary: 'Exchange a valid connection token for its successor: same accounts, fresh expiry',
  security: [{ connectionToken: [] }],
  response: {
    200: z.object({
      token: z.string(),
      expiresAt: z.string().describe('ISO 8601'),
      accountIds: z.array(z.string()).nullable().describe('null: every account'),
    }),
    ...errorResponses(401, 429),
  },
};

/**
 * `GET /ws/messages`, described as what it is over HTTP: an upgrade to a WebSocket, or a refusal
 * before it. The frames, close codes and resume rules are in docs/realtime.md.
 */
export function socketRouteSchema(querystring: z.ZodType) {
  return {
    tags: ['realtime'],
    summary: 'Open the realtime WebSocket (Upgrade: websocket)',
    description:
      'A WebSocket upgrade. After `101 Switching Protocols` the server sends `hello`, then ' +
      '`message:new` and the other envelopes of the token’s accounts, resuming after `since`. ' +
      'Protocol, frames and close codes: docs/realtime.md.',
    querystring,
    response: {
      101: z.null().describe('Switching Protocols: the connection is now a WebSocket'),
      400: errorResponse.describe('Invalid query, or not a WebSocket upgrade'),
      401: errorResponse.describe('Missing, invalid or expired token'),
      403: errorResponse.describe('Origin not allowed'),
      429: errorResponse.describe('Too many open connections for this token'),
    },
  };
}
