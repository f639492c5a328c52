import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { requireBearerSecret } from '../http/api-auth.js';
import { opsRouteSchemas } from './route-schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: each concern registers its own metrics here. */
    metrics: Registry;
  }
}

/** Who may read `GET /metrics`. */
export interface MetricsOptions {
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>` (METRICS_TOKEN). Default: open. */
  token?: string;
}

/**
 * One registry per app (not prom-client's global one), so several apps in one process (tests)
 * never clash, and `GET /metrics` serves it in the Prometheus text format. The default metrics
 * include `hookline_nodejs_eventloop_lag_*`, from `perf_hooks.monitorEventLoopDelay`.
 */
export const metricsPlugin = fp<MetricsOptions>(
  async (app: FastifyInstance, options) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'hookline_' });
    app.decorate('metrics', registry);
    const onRequest = options.token
      ? requireBearerSecret(app, options.token, 'Missing or invalid METRICS_TOKEN (Authorization: Bearer …)')
      : undefined;
    app.get(
      '/metrics',
      { logLevel: 'warn', schema: opsRouteSchemas.metrics, ...(onRequest ? { onRequest } : {}) },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  },
  { name: 'hookline-metrics', dependencies: ['hookline-auth-failures'] },
);
