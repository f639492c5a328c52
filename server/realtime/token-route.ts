import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tokenRouteSchema } from './route-schemas.js';
import { mintRealtimeToken } from './tokens.js';

/** Most accounts one connection token may cover. */
export const MAX_TOKEN_ACCOUNTS = 100;

function tokenRequestSchema(maxTtlSeconds: number) {
  return z.strictObject({
    accountIds: z.array(z.string().trim().min(1).max(200)).min(1).max(MAX_TOKEN_ACCOUNTS),
    ttlSeconds: z.number().int().min(60).max(maxTtlSeconds).default(3600),
  });
}

/**
 * `POST /api/realtime/tokens`: what a host app's backend calls for its signed-in user, then hands
 * the token to the browser. Answers `{ token, expiresAt, accountIds }`.
 */
export function registerTokenRoute(app: FastifyInstance, jwtSecret: string): void {
  const schema = tokenRequestSchema(app.config.REALTIME_TOKEN_MAX_TTL_SECONDS);
  app.post(
    '/api/realtime/tokens',
    { schema: tokenRouteSchema(schema), preHandler: app.requireApiToken },
    async (request, reply) => {
      const body = schema.parse(request.body);
      const accountIds = [...new Set(body.accountIds)];
      const { token, expiresAt } = await mintRealtimeToken(jwtSecret, accountIds, body.ttlSeconds);
      return reply.status(200).send({ token, expiresAt: expiresAt.toISOString(), accountIds });
    },
  );
}
