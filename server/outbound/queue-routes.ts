import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { requires } from '../http/credentials.js';
import { endpointIdParams, endpointView } from './api-schemas.js';
import { endpointNotFound } from './endpoint-routes.js';
import { newestDeliveryId, requeueBatch } from './queries/delivery-reports.js';
import { findEndpoint } from './queries/endpoints.js';
import {
  pauseEndpoint,
  pausePool,
  poolPausedAt,
  resumeEndpoint,
  resumePool,
} from './queries/outbound-controls.js';
import { type QueueCounts, queueStatsByEndpoint } from './queries/outbound-stats.js';
import { bulkRetryBody, bulkRetryResponse, poolStateResponse, queueStatsResponse } from './queue-schemas.js';
import { outboundRouteSchemas } from './route-schemas.js';
import type { OutboundService } from './service.js';

/** Deliveries re-queued per statement by a bulk retry: small enough to hold row locks only briefly. */
const RETRY_BATCH_SIZE = 500;

/** Pausing and resuming endpoints and the worker pool, queue stats, and bulk retry. */
export async function queueRoutes(app: FastifyInstance, service: OutboundService): Promise<void> {
  const db = () => app.database.db;

  app.post(
    '/api/endpoints/:id/pause',
    { schema: outboundRouteSchemas.pauseEndpoint, config: requires('api') },
    async function pauseEndpointRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const row = await pauseEndpoint(db(), id);
      if (!row) throw endpointNotFound(id);
      return endpointView(row);
    },
  );

  app.post(
    '/api/endpoints/:id/resume',
    { schema: outboundRouteSchemas.resumeEndpoint, config: requires('api') },
    async function resumeEndpointRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const row = await resumeEndpoint(db(), id);
      if (!row) throw endpointNotFound(id);
      service.wake();
      return endpointView(row);
    },
  );

  app.post(
    '/api/outbound/pause',
    { schema: outboundRouteSchemas.pausePool, config: requires('api') },
    async function pausePoolRoute() {
      const pausedAt = await pausePool(db());
      return poolStateResponse.parse({ paused: true, pausedAt: pausedAt.toISOString() });
    },
  );

  app.post(
    '/api/outbound/resume',
    { schema: outboundRouteSchemas.resumePool, config: requires('api') },
    async function resumePoolRoute() {
      await resumePool(db());
      service.wake();
      return poolStateResponse.parse({ paused: false, pausedAt: null });
    },
  );

  app.get(
    '/api/outbound/stats',
    { schema: outboundRouteSchemas.queueStats, config: requires('api') },
    async function queueStatsRoute() {
      const [pausedAt, endpoints] = await Promise.all([poolPausedAt(db()), queueStatsByEndpoint(db())]);
      return queueStatsResponse.parse({
        paused: pausedAt !== null,
        pausedAt: pausedAt?.toISOString() ?? null,
        total: totalQueue(endpoints),
        endpoints,
      });
    },
  );

  app.post(
    '/api/deliveries/retry',
    { schema: outboundRouteSchemas.bulkRetry, config: requires('api') },
    async function bulkRetryRoute(request, reply) {
      const body = bulkRetryBody.parse(request.body);
      if (body.endpointId && !(await findEndpoint(db(), body.endpointId)))
        throw endpointNotFound(body.endpointId);
      const upToId = await newestDeliveryId(db());
      let afterId = 0;
      let requeued = 0;
      for (;;) {
        const batch = await requeueBatch(db(), {
          status: body.status,
          ...(body.since ? { since: new Date(body.since) } : {}),
          ...(body.endpointId ? { endpointId: body.endpointId } : {}),
          afterId,
          upToId,
          limit: RETRY_BATCH_SIZE,
        });
        if (batch.lastId === undefined) break;
        requeued += batch.requeued;
        afterId = batch.lastId;
        // The worker sends each batch while the next is re-queued, and claims between batches.
        if (batch.requeued > 0) service.wake();
        await nextTurn();
      }
      return reply.status(202).send(bulkRetryResponse.parse({ requeued }));
    },
  );
}

/** The endpoints' queues added up; the oldest age is the oldest of any endpoint. */
function totalQueue(queues: readonly QueueCounts[]): QueueCounts {
  const ages = queues.flatMap((queue) =>
    queue.oldestPendingAgeSeconds === null ? [] : [queue.oldestPendingAgeSeconds],
  );
  const sum = (value: (queue: QueueCounts) => number) =>
    queues.reduce((total, queue) => total + value(queue), 0);
  return {
    pending: sum((queue) => queue.pending),
    scheduledForRetry: sum((queue) => queue.scheduledForRetry),
    inFlight: sum((queue) => queue.inFlight),
    dead: sum((queue) => queue.dead),
    oldestPendingAgeSeconds: ages.length ? Math.max(...ages) : null,
    deliveredPerSecond: sum((queue) => queue.deliveredPerSecond),
  };
}
