import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';
import { responsesTooLargeCounter, UnipileMessaging } from '../providers/unipile/index.js';
import { SendEnqueuer } from './enqueue.js';
import { SendIdempotency } from './idempotency.js';
import { pruneSendBookkeeping } from './queries/send-budgets.js';
import { SENDS_CHANNEL } from './queries/sends.js';
import { sendRoutes } from './routes.js';
import { SendWorker } from './worker.js';

/** How often expired idempotency answers and spent budgets are deleted. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Sending through the provider (docs/sending.md): the send routes, and (with UNIPILE_DSN,
 * UNIPILE_API_KEY and SEND_WORKER_ENABLED) the send worker, started when the app is ready and
 * stopped before it closes.
 */
export const sendPlugin = fp(
  async (app: FastifyInstance) => {
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
            maxResponseBytes: config.UNIPILE_MAX_RESPONSE_BYTES,
            onResponseTooLarge: () => responsesTooLargeCounter(app.metrics).inc(),
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
            unconfirmedResends: config.SEND_UNCONFIRMED_RESENDS,
          })
        : undefined;

    const idempotency = new SendIdempotency(app.database.db, config.SEND_IDEMPOTENCY_HOURS);
    const enqueuer = new SendEnqueuer({
      db: app.database.db,
      changes: app.changes,
      idempotency,
      wake: () => worker?.wake(),
    });
    await app.register(sendRoutes, {
      enqueuer,
      canReachProvider: messaging !== undefined,
      idempotency,
      attachments: {
        maxFileBytes: config.SEND_ATTACHMENT_MAX_BYTES,
        maxFiles: config.SEND_ATTACHMENT_MAX_FILES,
        maxTotalBytes: config.SEND_ATTACHMENTS_MAX_TOTAL_BYTES,
      },
      wake: () => worker?.wake(),
      budgets: {
        perSessionPerMinute: config.SEND_RATE_PER_MINUTE,
        perAccountPerMinute: config.SEND_ACCOUNT_RATE_PER_MINUTE,
        maxPendingPerAccount: config.SEND_MAX_PENDING_PER_ACCOUNT,
      },
      maxUploadsInFlight: config.SEND_MAX_UPLOADS_IN_FLIGHT,
    });

    // Idempotency answers past SEND_IDEMPOTENCY_HOURS replay nothing: they are deleted.
    const log = app.log.child({ concern: 'send' });
    const pruner = setInterval(
      () =>
        void pruneSendBookkeeping(app.database.db, config.SEND_IDEMPOTENCY_HOURS).catch((error: unknown) =>
          log.warn({ err: error }, 'pruning send_requests failed; retrying on the next round'),
        ),
      PRUNE_INTERVAL_MS,
    );
    pruner.unref();
    app.addHook('onClose', async () => clearInterval(pruner));

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
      // Sends queued on another instance: its NOTIFY wakes this worker (and after a gap in the
      // LISTEN connection, a claim round picks up whatever was queued meanwhile).
      const unlisten = app.notifications.subscribe(SENDS_CHANNEL, {
        onNotification: () => worker.wake(),
        onListening: () => worker.wake(),
      });
      app.addHook('onReady', async () => worker.start());
      app.addHook('preClose', async () => {
        unlisten();
        await worker.stop();
      });
    }
    app.addHook('onClose', async () => {
      // Before the database plugin's onClose (hooks run in reverse): every accepted send is stored.
      await enqueuer.drain();
      await messaging?.close();
    });
  },
  { name: 'hookline-send', dependencies: ['hookline-database', 'hookline-realtime-sessions'] },
);
