import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TOKEN_SCOPES } from '../http/connection-grant.js';
import { bearerToken, requires } from '../http/credentials.js';
import { refreshRouteSchema, tokenRouteSchema } from './route-schemas.js';

/** Most accounts one connection token may cover. */
export const MAX_TOKEN_ACCOUNTS = 100;

/** Where `POST /api/realtime/tokens/refresh` lives; a valid connection token is its credential. */
export const TOKEN_REFRESH_PATH = '/api/realtime/tokens/refresh';

/** A new session's default length: a day. */
const DEFAULT_SESSION_TTL_SECONDS = 86_400;

function tokenRequestSchema(maxTtlSeconds: number, maxSessionSeconds: number) {
  return z.strictObject({
    accountIds: z.array(z.string().trim().min(1).max(200)).min(1).max(MAX_TOKEN_ACCOUNTS),
    ttlSeconds: z.number().int().min(60).max(maxTtlSeconds).default(3600),
    scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(TOKEN_SCOPES.length).default(['read']),
    sessionTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(maxSessionSeconds)
      .default(Math.min(DEFAULT_SESSION_TTL_SECONDS, maxSessionSeconds)),
  });
}

/**
 * `POST /api/realtime/tokens`: what a host app's backend calls for its signed-in user, then hands
 * the token to the browser. It opens a session (`sessionTtlSeconds`, at most
 * REALTIME_SESSION_MAX_SECONDS) and answers its first token:
 * `{ token, expiresAt, sessionId, sessionExpiresAt, accountIds, scopes }`.
 *
 * `POST /api/realtime/tokens/refresh` with `Authorization: Bearer <connection token>`: the token
 * mints its successor (same claims and session, fresh expiry never past the session's end), so a
 * page that holds one keeps working without going back to the host app. Answers
 * `{ token, expiresAt, sessionId, sessionExpiresAt, accountIds }` (`accountIds` null for an
 * all-accounts inbox login token).
 */
export function registerTokenRoute(app: FastifyInstance): void {
  const maxTtlSeconds = app.config.REALTIME_TOKEN_MAX_TTL_SECONDS;
  const schema = tokenRequestSchema(maxTtlSeconds, app.config.REALTIME_SESSION_MAX_SECONDS);
  app.post(
    '/api/realtime/tokens',
    { schema: tokenRouteSchema(schema), config: requires('api') },
    async function mintToken(request, reply) {
      const body = schema.parse(request.body);
      const accountIds = [...new Set(body.accountIds)];
      const scopes = [...new Set(body.scopes)];
      const session = await app.realtimeSessions.create({
        accountIds,
        scopes,
        ttlSeconds: body.ttlSeconds,
        sessionTtlSeconds: body.sessionTtlSeconds,
        origin: 'api',
      });
      return reply.status(200).send({
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        sessionId: session.sessionId,
        sessionExpiresAt: session.sessionExpiresAt.toISOString(),
        accountIds,
        scopes,
      });
    },
  );

  app.post(
    TOKEN_REFRESH_PATH,
    { schema: refreshRouteSchema, config: requires('read') },
    async function refreshToken(request) {
      const { token, expiresAt, grant } = await app.realtimeSessions.refresh(bearerToken(request));
      const session = grant.session as NonNullable<typeof grant.session>;
      return {
        token,
        expiresAt: expiresAt.toISOString(),
        sessionId: session.id,
        sessionExpiresAt: new Date(session.expiresAt * 1000).toISOString(),
        accountIds: grant.scope.kind === 'accounts' ? [...grant.scope.accountIds] : null,
      };
    },
  );
}
