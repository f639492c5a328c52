import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';
import { UnipileMessaging } from '../providers/unipile/index.js';
import { sendRoutes } from './routes.js';
import { SendWorker } from './worker.js';

export interface SendPluginOptions {
  apiToken: string;
  realtimeJwtSecret: string;
}

/**
 * Sending through the provider (docs/sending.md): the send routes, and (with UNIPILE_DSN,
 * UNIPILE_API_KEY and SEND_WORKER_ENABLED) the send worker, started when the app is ready and
 * stopped before it closes.
 */
export const sendPlugin = fp<SendPluginOptions>(
  async (app: FastifyInstance, options) => {
    const config = app.config;
    if (config.SEND_LEASE_MS <= config.SEND_TIMEOUT_MS) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        'SEND_LEASE_MS must exceed SEND_TIMEOUT_MS, or a slow send could be taken for an abandoned one',
      );
    }
    const messaging =
      config.UNIPILE_DSN && config.UNIPILE_API_KEY
        ? new UnipileMessaging({
            dsn: config.UNIPILE_DSN,
            apiKey: config.UNIPILE_API_KEY,
            timeoutMs: config.SEND_TIMEOUT_MS,
            connections: config.SEND_CONCURRENCY,
          })
        : undefined;
    const worker =
      messaging && config.SEND_WORKER_ENABLED
        ? new SendWorker({
            db: app.database.db,
            messaging,
            changes: app.changes,
            log: app.log.child({ concern: 'send' }),
            concurrency: config.SEND_CONCURRENCY,
            leaseMs: config.SEND_LEASE_MS,
            pollIntervalMs: config.SEND_POLL_INTERVAL_MS,
            retryMinMs: config.SEND_RETRY_MIN_MS,
            maxAttempts: config.SEND_MAX_ATTEMPTS,
            lookupDelayMs: config.SEND_LOOKUP_DELAY_MS,
          })
        : undefined;

    await app.register(sendRoutes, {
      apiToken: options.apiToken,
      realtimeJwtSecret: options.realtimeJwtSecret,
      canReachProvider: messaging !== undefined,
      idempotencyHours: config.SEND_IDEMPOTENCY_HOURS,
      attachments: {
        maxFileBytes: config.SEND_ATTACHMENT_MAX_BYTES,
        maxFiles: config.SEND_ATTACHMENT_MAX_FILES,
        maxTotalBytes: config.SEND_ATTACHMENTS_MAX_TOTAL_BYTES,
      },
      wake: () => worker?.wake(),
    });

    app.addReadinessCheck('send', {
      critical: false,
      run: () =>
        worker
          ? { ok: true, state: `running, ${worker.inFlightCount} in flight` }
          : {
              ok: true,
              state: messaging ? 'worker disabled (SEND_WORKER_ENABLED=false)' : 'provider not configured',
            },
    });
    if (worker) {
      app.addHook('onReady', async () => worker.start());
      app.addHook('preClose', () => worker.stop());
    }
    app.addHook('onClose', async () => messaging?.close());
  },
  { name: 'hookline-send', dependencies: ['hookline-database'] },
);
