import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/database.js';
import { HooklineError } from '../errors.js';
import type { AttemptContext } from './attempt.js';
import { AttemptRecorder } from './attempt-recorder.js';
import { deliveryRoutes } from './delivery-routes.js';
import { endpointRoutes } from './endpoint-routes.js';
import { headerHost, pinHeaders } from './header-box.js';
import { OutboundMetrics } from './metrics.js';
import { DELIVERIES_CHANNEL } from './outboxes.js';
import { countBacklog } from './queries/deliveries.js';
import { listEndpointsWithHeaders, replaceEndpointHeaders } from './queries/endpoints.js';
import { queueRoutes } from './queue-routes.js';
import { parseRetrySchedule } from './retry-schedule.js';
import { WebhookSender } from './sender.js';
import type { OutboundService } from './service.js';
import { DeliveryWorker } from './worker.js';

/** The outbound feature's key; everything else comes from `app.config`. */
export interface OutboundPluginOptions {
  /** 32-byte AES-256-GCM key for endpoint secrets (ENCRYPTION_KEY). */
  encryptionKey: Buffer;
}

/**
 * Outbound webhooks: the `/api/endpoints` and delivery routes, and (unless
 * OUTBOUND_WORKER_ENABLED=false) the delivery worker, started when the app is ready and stopped
 * before it closes.
 */
export const outboundPlugin = fp<OutboundPluginOptions>(
  async (app: FastifyInstance, options) => {
    const config = app.config;
    if (config.OUTBOUND_LEASE_MS <= config.OUTBOUND_TIMEOUT_MS) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        'OUTBOUND_LEASE_MS must exceed OUTBOUND_TIMEOUT_MS, or a slow delivery could be sent twice at once',
      );
    }
    const sender = new WebhookSender({
      timeoutMs: config.OUTBOUND_TIMEOUT_MS,
      allowPrivate: config.ALLOW_PRIVATE_ENDPOINTS,
      connectionsPerOrigin: config.OUTBOUND_ENDPOINT_CONCURRENCY,
    });
    const metrics = new OutboundMetrics(app.metrics, () => countBacklog(app.database.db));
    const log = app.log.child({ concern: 'outbound' });
    const recorder = new AttemptRecorder({
      db: app.database.db,
      disableAfterMs: config.OUTBOUND_DISABLE_AFTER_MS,
      metrics,
      log,
    });
    const attempts: AttemptContext = {
      db: app.database.db,
      sender,
      encryptionKey: options.encryptionKey,
      recorder,
      retrySchedule: parseRetrySchedule(config.OUTBOUND_RETRY_SCHEDULE),
      metrics,
      log,
    };
    const worker = config.OUTBOUND_WORKER_ENABLED
      ? new DeliveryWorker(attempts, {
          concurrency: config.OUTBOUND_CONCURRENCY,
          endpointConcurrency: config.OUTBOUND_ENDPOINT_CONCURRENCY,
          leaseMs: config.OUTBOUND_LEASE_MS,
          pollIntervalMs: config.OUTBOUND_POLL_INTERVAL_MS,
        })
      : undefined;
    const service: OutboundService = {
      attempts,
      encryptionKey: options.encryptionKey,
      maxEndpoints: config.OUTBOUND_MAX_ENDPOINTS,
      defaultMaxAttempts: config.OUTBOUND_MAX_ATTEMPTS,
      allowPrivateEndpoints: config.ALLOW_PRIVATE_ENDPOINTS,
      secretOverlapMs: config.OUTBOUND_SECRET_OVERLAP_MS,
      leaseMs: config.OUTBOUND_LEASE_MS,
      wake: () => worker?.wake(),
    };

    const sealed = await sealPlainHeaders(app.database.db, options.encryptionKey);
    if (sealed > 0) log.info({ endpoints: sealed }, 'encrypted stored custom headers at rest');

    await endpointRoutes(app, service);
    await deliveryRoutes(app, service);
    await queueRoutes(app, service);

    app.addReadinessCheck('outbound', {
      critical: false,
      run: () =>
        worker
          ? { ok: true, state: `running, ${worker.inFlightCount} in flight` }
          : { ok: true, state: 'worker disabled (OUTBOUND_WORKER_ENABLED=false)' },
    });

    const stopWaking: Array<() => unknown> = [];
    if (worker) {
      app.addHook('onReady', async () => {
        stopWaking.push(
          app.changes.subscribe((change) => {
            if (change.deliveries) worker.wake();
          }),
        );
        stopWaking.push(
          app.notifications.subscribe(DELIVERIES_CHANNEL, {
            onNotification: () => worker.wake(),
            // Notifications sent while disconnected are lost: look for due deliveries at once.
            onListening: () => worker.wake(),
          }),
        );
        worker.start();
      });
    }
    app.addHook('preClose', async () => {
      await Promise.all(stopWaking.map((stop) => stop()));
      await worker?.stop();
    });
    // The worker stopped in preClose, after its attempts were recorded; by onClose every request
    // (test sends included) has finished too. This hook runs before the database plugin's (onClose
    // hooks run in reverse order of registration), so no acknowledged attempt is left unrecorded.
    app.addHook('onClose', async () => {
      await recorder.drain();
      await sender.close();
    });
  },
  {
    name: 'hookline-outbound',
    dependencies: ['hookline-database', 'hookline-metrics', 'hookline-readiness', 'hookline-credentials'],
  },
);

/**
 * Encrypts custom header values stored before they were encrypted at rest, and pins those stored
 * before pinning to the endpoint's current host. Done by the application at startup because only
 * it holds ENCRYPTION_KEY; idempotent, and safe when several instances start at once (each row is
 * replaced only if unchanged since it was read).
 */
async function sealPlainHeaders(db: Db, key: Buffer): Promise<number> {
  let sealed = 0;
  for (const row of await listEndpointsWithHeaders(db)) {
    const pinned = pinHeaders(row.headers, key, headerHost(row.url));
    const changed = Object.entries(pinned).some(([name, value]) => row.headers[name] !== value);
    if (changed && (await replaceEndpointHeaders(db, row.id, row.headers, pinned))) sealed += 1;
  }
  return sealed;
}
