import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { mintRealtimeToken, TOKEN_SCOPES } from './tokens.js';

/** Most accounts one connection token may cover. */
export const MAX_TOKEN_ACCOUNTS = 100;

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
 */
export function registerTokenRoute(app: FastifyInstance, jwtSecret: string): void {
  const schema = tokenRequestSchema(app.config.REALTIME_TOKEN_MAX_TTL_SECONDS);
  app.post('/api/realtime/tokens', { preHandler: app.requireApiToken }, async (request, reply) => {
    const body = schema.parse(request.body);
    const accountIds = [...new Set(body.accountIds)];
    const scopes = [...new Set(body.scopes)];
    const { token, expiresAt } = await mintRealtimeToken(jwtSecret, accountIds, body.ttlSeconds, scopes);
    return reply.status(200).send({ token, expiresAt: expiresAt.toISOString(), accountIds, scopes });
  });
}
