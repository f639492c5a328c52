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
        sessionId: z.string(),
        sessionExpiresAt: z.string().describe('ISO 8601: no token of the session outlives it'),
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
  summary: 'Exchange a valid connection token for its successor: same accounts and session, fresh expiry',
  security: [{ connectionToken: [] }],
  response: {
    200: z.object({
      token: z.string(),
      expiresAt: z.string().describe('ISO 8601, never past sessionExpiresAt'),
      sessionId: z.string(),
      sessionExpiresAt: z.string().describe('ISO 8601'),
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
    security: [{ connectionTokenQuery: [] }],
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

/** One live session as `GET /api/realtime/sessions` lists it. */
const sessionView = z.object({
  sessionId: z.string(),
  accountIds: z.array(z.string()).nullable().describe('null: every account (an inbox login)'),
  scopes: z.array(z.string()),
  origin: z.enum(['api', 'login']),
  createdAt: z.string().describe('ISO 8601'),
  expiresAt: z.string().describe('ISO 8601'),
});

/** The query of `GET /api/realtime/sessions`. */
export const sessionListQuery = z.strictObject({
  accountId: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** The path of `DELETE /api/realtime/sessions/:sessionId`. */
export const sessionParams = z.object({ sessionId: z.string().min(1).max(100) });

/** The body of `POST /api/realtime/login`. */
export const loginBody = z.strictObject({ code: z.string().min(1).max(200) });

/** The answer of a new session's first token: a login's. */
const sessionToken = z.object({
  token: z.string(),
  expiresAt: z.string().describe('ISO 8601'),
  sessionId: z.string(),
  sessionExpiresAt: z.string().describe('ISO 8601'),
});

/** Session and login routes (docs/realtime.md, "Sessions"; docs/security.md). */
export const sessionRouteSchemas = {
  list: {
    tags: ['realtime'],
    summary: 'Live sessions (not revoked, not ended), newest first; with accountId, those covering it',
    security: apiTokenSecurity,
    querystring: sessionListQuery,
    response: { 200: z.object({ items: z.array(sessionView) }), ...errorResponses(400, 401) },
  },
  revoke: {
    tags: ['realtime'],
    summary: 'Revoke a session: its tokens get 401 and its sockets close with 4003, on every instance',
    security: apiTokenSecurity,
    params: sessionParams,
    response: { 204: z.null().describe('Revoked'), ...errorResponses(401, 404) },
  },
  loginCode: {
    tags: ['realtime'],
    summary: 'A single-use inbox login code (15 minutes) and the inbox URL that carries it',
    security: apiTokenSecurity,
    response: {
      201: z.object({ code: z.string(), url: z.string(), expiresAt: z.string().describe('ISO 8601') }),
      ...errorResponses(401),
    },
  },
  login: {
    tags: ['realtime'],
    summary: 'Exchange a login code (once) for an all-accounts inbox session and its first token',
    body: loginBody,
    response: { 200: sessionToken, ...errorResponses(400, 401, 429) },
  },
};
