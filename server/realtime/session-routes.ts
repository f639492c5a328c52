import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../errors.js';
import { requires } from '../http/credentials.js';
import { listLiveSessions } from './queries/realtime-sessions.js';
import { sessionListQuery, sessionParams, sessionRouteSchemas } from './route-schemas.js';

/**
 * `GET /api/realtime/sessions?accountId=` (live sessions) and `DELETE
 * /api/realtime/sessions/:sessionId` (revoke: 204, then 401 for every token of the session and
 * close code 4003 for its sockets, on every instance). Both need the API token.
 */
export function registerSessionRoutes(app: FastifyInstance): void {
  app.get(
    '/api/realtime/sessions',
    { schema: sessionRouteSchemas.list, config: requires('api') },
    async function listSessions(request) {
      const query = sessionListQuery.parse(request.query);
      const rows = await listLiveSessions(app.database.db, query.accountId, query.limit);
      return {
        items: rows.map((row) => ({
          sessionId: row.id,
          accountIds: row.accountIds,
          scopes: row.scopes,
          origin: row.origin,
          createdAt: new Date(row.createdAt).toISOString(),
          expiresAt: new Date(row.expiresAt).toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/api/realtime/sessions/:sessionId',
    { schema: sessionRouteSchemas.revoke, config: requires('api') },
    async function revokeSession(request, reply) {
      const { sessionId } = sessionParams.parse(request.params);
      if (!(await app.realtimeSessions.revoke(sessionId))) {
        throw new HooklineError('HL_ERR_NOT_FOUND', `No live session ${sessionId}`, {
          details: { sessionId },
        });
      }
      request.log.info({ sessionId }, 'realtime session revoked');
      return reply.status(204).send();
    },
  );
}
