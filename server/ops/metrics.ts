import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { requires } from '../http/credentials.js';
import { opsRouteSchemas } from './route-schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: each concern registers its own metrics here. */
    metrics: Registry;
  }
}

/**
 * One registry per app (not prom-client's global one), so several apps in one process (tests)
 * never clash, and `GET /metrics` serves it in the Prometheus text format. The default metrics
 * include `hookline_nodejs_eventloop_lag_*`, from `perf_hooks.monitorEventLoopDelay`. The route
 * requires METRICS_TOKEN when it is set (server/http/credentials.ts), and is open otherwise.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
    app.decorate('metrics', registry);
    app.get(
      '/metrics',
      { logLevel: 'warn', schema: opsRouteSchemas.metrics, config: requires('metrics') },
      async function serveMetrics(_request, reply) {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  },
  { name: 'hookline-metrics', dependencies: ['hookline-credentials'] },
);
