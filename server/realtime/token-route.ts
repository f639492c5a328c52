import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HooklineError } from '../errors.js';
import { bearerToken } from '../http/api-auth.js';
import { refreshRouteSchema, tokenRouteSchema } from './route-schemas.js';
import { TOKEN_SCOPES } from './tokens.js';

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
    { schema: tokenRouteSchema(schema), onRequest: app.requireApiToken },
    async (request, reply) => {
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

  const requireConnectionToken = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await app.realtimeSessions.verify(bearerToken(request));
    } catch (error) {
      if (!(error instanceof HooklineError)) throw error;
      await app.rejectCredentials(request, reply, error);
    }
  };
  app.post(
    TOKEN_REFRESH_PATH,
    { schema: refreshRouteSchema, onRequest: requireConnectionToken },
    async (request) => {
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
