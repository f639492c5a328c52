import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HooklineError } from '../errors.js';
import { bearerToken } from '../http/api-auth.js';
import { refreshRouteSchema, tokenRouteSchema } from './route-schemas.js';
import { mintRealtimeToken, refreshRealtimeToken, TOKEN_SCOPES, verifyRealtimeToken } from './tokens.js';

/** Most accounts one connection token may cover. */
export const MAX_TOKEN_ACCOUNTS = 100;

/** Where `POST /api/realtime/tokens/refresh` lives; a valid connection token is its credential. */
export const TOKEN_REFRESH_PATH = '/api/realtime/tokens/refresh';

function tokenRequestSchema(maxTtlSeconds: number) {
  return z.strictObject({
    accountIds: z.array(z.string().trim().min(1).max(200)).min(1).max(MAX_TOKEN_ACCOUNTS),
    ttlSeconds: z.number().int().min(60).max(maxTtlSeconds).default(3600),
    scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(TOKEN_SCOPES.length).default(['read']),
  });
}

/**
 * `POST /api/realtime/tokens`: what a host app's backend calls for its signed-in user, then hands
 * the token to the browser. Answers `{ token, expiresAt, accountIds, scopes }`.
 *
 * `POST /api/realtime/tokens/refresh` with `Authorization: Bearer <connection token>`: the token
 * mints its successor (same claims, fresh expiry), so a page that holds one keeps working without
 * going back to the host app. Answers `{ token, expiresAt, accountIds }` (`accountIds` null for
 * an all-accounts dev token).
 */
export function registerTokenRoute(app: FastifyInstance, jwtSecret: string): void {
  const maxTtlSeconds = app.config.REALTIME_TOKEN_MAX_TTL_SECONDS;
  const schema = tokenRequestSchema(maxTtlSeconds);
  app.post(
    '/api/realtime/tokens',
    { schema: tokenRouteSchema(schema), onRequest: app.requireApiToken },
    async (request, reply) => {
      const body = schema.parse(request.body);
      const accountIds = [...new Set(body.accountIds)];
      const scopes = [...new Set(body.scopes)];
      const { token, expiresAt } = await mintRealtimeToken(jwtSecret, accountIds, body.ttlSeconds, scopes);
      return reply.status(200).send({ token, expiresAt: expiresAt.toISOString(), accountIds, scopes });
    },
  );

  const requireConnectionToken = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await verifyRealtimeToken(jwtSecret, bearerToken(request));
    } catch (error) {
      if (!(error instanceof HooklineError)) throw error;
      await app.rejectCredentials(request, reply, error);
    }
  };
  app.post(
    TOKEN_REFRESH_PATH,
    { schema: refreshRouteSchema, onRequest: requireConnectionToken },
    async (request) => {
      const { token, expiresAt, grant } = await refreshRealtimeToken(
        jwtSecret,
        bearerToken(request),
        maxTtlSeconds,
      );
      return {
        token,
        expiresAt: expiresAt.toISOString(),
        accountIds: grant.scope.kind === 'accounts' ? [...grant.scope.accountIds] : null,
      };
    },
  );
}
