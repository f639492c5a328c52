import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../errors.js';
import { EVENT_CATALOG, newWebhookId, webhookBody } from '../events/index.js';
import { requires } from '../http/credentials.js';
import {
  attemptView,
  deliveryIdParams,
  deliveryPageResponse,
  deliveryView,
  endpointIdParams,
  eventTypesResponse,
  listDeliveriesQuery,
  recoverBody,
  recoverResponse,
  statsQuery,
  statsResponse,
  testResponse,
} from './api-schemas.js';
import { attemptDelivery } from './attempt.js';
import { endpointNotFound } from './endpoint-routes.js';
import { endpointTarget, insertClaimedDelivery } from './queries/deliveries.js';
import {
  endpointStats,
  findDelivery,
  listEndpointDeliveries,
  requeueDelivery,
  requeueFailedDeliveries,
} from './queries/delivery-reports.js';
import { findEndpoint } from './queries/endpoints.js';
import { outboundRouteSchemas } from './route-schemas.js';
import type { OutboundService } from './service.js';

const DAY_MS = 86_400_000;

/** Test sends, delivery logs, stats, recovery, retry and the event catalog. */
export async function deliveryRoutes(app: FastifyInstance, service: OutboundService): Promise<void> {
  const db = () => app.database.db;

  async function requireEndpoint(id: string) {
    const endpoint = await findEndpoint(db(), id);
    if (!endpoint) throw endpointNotFound(id);
    return endpoint;
  }

  app.post(
    '/api/endpoints/:id/test',
    { schema: outboundRouteSchemas.testEndpoint, config: requires('api') },
    async function testEndpointRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const endpoint = await requireEndpoint(id);
      const claimed = await insertClaimedDelivery(
        db(),
        {
          webhookId: newWebhookId(),
          endpointId: endpoint.id,
          eventType: 'endpoint.test',
          payload: webhookBody('endpoint.test', {
            endpointId: endpoint.id,
            message: 'Test event from Hookline',
          }),
          leaseMs: service.leaseMs,
        },
        endpointTarget(endpoint),
      );
      const attempt = await attemptDelivery(service.attempts, claimed, new AbortController().signal);
      if (!attempt) throw endpointNotFound(id);
      const delivery = await findDelivery(db(), claimed.id);
      return testResponse.parse({
        attempt: attemptView(attempt),
        delivery: delivery ? deliveryView(delivery) : null,
      });
    },
  );

  app.get(
    '/api/endpoints/:id/deliveries',
    { schema: outboundRouteSchemas.listDeliveries, config: requires('api') },
    async function listDeliveriesRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const query = listDeliveriesQuery.parse(request.query);
      await requireEndpoint(id);
      const rows = await listEndpointDeliveries(db(), {
        endpointId: id,
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { before: query.cursor } : {}),
        limit: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      return deliveryPageResponse.parse({
        data: page.map(deliveryView),
        nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      });
    },
  );

  app.get(
    '/api/endpoints/:id/stats',
    { schema: outboundRouteSchemas.endpointStats, config: requires('api') },
    async function endpointStatsRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const query = statsQuery.parse(request.query);
      await requireEndpoint(id);
      const since = query.since ? new Date(query.since) : new Date(Date.now() - DAY_MS);
      const stats = await endpointStats(db(), id, since);
      return statsResponse.parse({
        since: since.toISOString(),
        successRate: stats.attempts === 0 ? null : stats.succeeded / stats.attempts,
        ...stats,
      });
    },
  );

  app.post(
    '/api/endpoints/:id/recover',
    { schema: outboundRouteSchemas.recoverEndpoint, config: requires('api') },
    async function recoverEndpointRoute(request, reply) {
      const { id } = endpointIdParams.parse(request.params);
      const body = recoverBody.parse(request.body);
      await requireEndpoint(id);
      const requeued = await requeueFailedDeliveries(db(), id, new Date(body.since));
      service.wake();
      return reply.status(202).send(recoverResponse.parse({ requeued }));
    },
  );

  app.post(
    '/api/deliveries/:id/retry',
    { schema: outboundRouteSchemas.retryDelivery, config: requires('api') },
    async function retryDeliveryRoute(request, reply) {
      const { id } = deliveryIdParams.parse(request.params);
      const existing = await findDelivery(db(), id);
      if (!existing) throw new HooklineError('HL_ERR_NOT_FOUND', `No delivery ${id}`, { details: { id } });
      const row = await requeueDelivery(db(), id);
      if (!row) {
        throw new HooklineError('HL_ERR_CONFLICT', 'The delivery is being sent right now', {
          details: { id },
        });
      }
      service.wake();
      return reply.status(202).send(deliveryView(row));
    },
  );

  app.get(
    '/api/event-types',
    { schema: outboundRouteSchemas.eventTypes, config: requires('api') },
    async function eventTypesRoute() {
      return eventTypesResponse.parse({ data: EVENT_CATALOG });
    },
  );
}
