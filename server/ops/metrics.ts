import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { opsRouteSchemas } from './route-schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: each concern registers its own metrics here. */
    metrics: Registry;
  }
}

/**
 * One registry per app (not prom-client's global one), so several apps in one process (tests)
 * never clash, and `GET /metrics` serves it in the Prometheus text format.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
    app.decorate('metrics', registry);
    app.get('/metrics', { logLevel: 'warn', schema: opsRouteSchemas.metrics }, async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    });
  },
  { name: 'hookline-metrics' },
);
