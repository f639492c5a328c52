import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { UnipileChatActions } from '../providers/unipile/index.js';
import { ReadStatusWorker } from './worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Wakes the read-status worker after marks were queued (a no-op without a provider). */
    readStatus: { wake(): void };
  }
}

/**
 * Read state towards the provider (docs/sending.md, "Read state"): with UNIPILE_DSN,
 * UNIPILE_API_KEY and SEND_WORKER_ENABLED, the worker that drains `read_marks`, started when the
 * app is ready and stopped before it closes. It shares the send queue's settings.
 */
export const readStatusPlugin = fp(
  async (app: FastifyInstance) => {
    const config = app.config;
    const actions =
      config.UNIPILE_DSN && config.UNIPILE_API_KEY && config.SEND_WORKER_ENABLED
        ? new UnipileChatActions({
            dsn: config.UNIPILE_DSN,
            apiKey: config.UNIPILE_API_KEY,
            timeoutMs: config.SEND_TIMEOUT_MS,
          })
        : undefined;
    const worker = actions
      ? new ReadStatusWorker({
          db: app.database.db,
          actions,
          log: app.log.child({ concern: 'read-status' }),
          concurrency: 4,
          leaseMs: config.SEND_LEASE_MS,
          pollIntervalMs: config.SEND_POLL_INTERVAL_MS,
          retryMinMs: config.SEND_RETRY_MIN_MS,
          maxAttempts: config.SEND_MAX_ATTEMPTS,
        })
      : undefined;
    app.decorate('readStatus', { wake: () => worker?.wake() });
    if (worker) {
      app.addHook('onReady', async () => worker.start());
      app.addHook('preClose', () => worker.stop());
    }
    app.addHook('onClose', async () => {
      await actions?.close();
    });
  },
  { name: 'hookline-read-status', dependencies: ['hookline-database'] },
);
