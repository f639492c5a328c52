import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { responsesTooLargeCounter, UnipileRestClient } from '../providers/unipile/index.js';
import { ChatFiller } from './chat-fill.js';
import { SyncEngine, type SyncTrigger } from './engine.js';
import { oldestWatermarkAgeSeconds } from './queries/sync.js';
import { syncRoutes } from './routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Catch-up sync; `engine` is undefined without UNIPILE_DSN and UNIPILE_API_KEY. */
    sync: {
      readonly engine: SyncEngine | undefined;
      /** Starts a sync of an account whose status says it is back (RECONNECTED, SYNC_SUCCESS, OK). */
      onAccountStatus(accountId: string, status: string): void;
      /**
       * Fills in, in the background, a chat a webhook named without details (docs/sync.md);
       * returns at once. `chats` is undefined without UNIPILE_DSN and UNIPILE_API_KEY.
       */
      onChatWithoutDetails(accountId: string, chatId: string): void;
      readonly chats: ChatFiller | undefined;
    };
  }
}

/** Account statuses after which messages may have been missed: the account is back. */
const BACK_STATUSES = new Set(['RECONNECTED', 'SYNC_SUCCESS', 'OK']);

/**
 * Catch-up sync from the provider's REST API (docs/sync.md): the engine, its triggers (startup,
 * every UNIPILE_SYNC_INTERVAL_SECONDS, an account coming back, `POST /api/sync`), its routes,
 * metrics and an informational `/readyz` check. Needs only UNIPILE_DSN and UNIPILE_API_KEY.
 */
export const syncPlugin = fp(
  async (app: FastifyInstance) => {
    const config = app.config;
    const messagesTotal = new Counter({
      name: 'hookline_sync_messages_total',
      help: 'Messages read by catch-up sync, by result: new, duplicate, updated, skipped (kept as rejected bodies, not stored).',
      labelNames: ['result'],
      registers: [app.metrics],
    });
    const retriesTotal = new Counter({
      name: 'hookline_sync_provider_retries_total',
      help: 'Provider REST calls of catch-up sync retried after a throttle (429), failure (5xx) or network error.',
      registers: [app.metrics],
    });
    const tooLarge = responsesTooLargeCounter(app.metrics);
    const client =
      config.UNIPILE_DSN && config.UNIPILE_API_KEY
        ? new UnipileRestClient({
            dsn: config.UNIPILE_DSN,
            apiKey: config.UNIPILE_API_KEY,
            timeoutMs: config.UNIPILE_TIMEOUT_MS,
            retryMinMs: config.UNIPILE_RETRY_MIN_MS,
            retryMaxMs: Math.max(config.UNIPILE_RETRY_MIN_MS, Math.min(config.UNIPILE_RETRY_MAX_MS, 30_000)),
            onRetry: () => retriesTotal.inc(),
            maxResponseBytes: config.UNIPILE_MAX_RESPONSE_BYTES,
            onResponseTooLarge: () => tooLarge.inc(),
          })
        : undefined;
    const engine = client
      ? new SyncEngine({
          database: app.database,
          client,
          changes: app.changes,
          logger: app.log,
          pageSize: config.UNIPILE_SYNC_PAGE_SIZE,
          maxPages: config.UNIPILE_SYNC_MAX_PAGES,
          overlapMs: config.UNIPILE_SYNC_OVERLAP_SECONDS * 1000,
          lookbackMs: config.UNIPILE_SYNC_LOOKBACK_HOURS * 3_600_000,
          onPage: (_run, page) => {
            messagesTotal.inc({ result: 'new' }, page.newMessages);
            messagesTotal.inc({ result: 'duplicate' }, page.duplicates);
            messagesTotal.inc({ result: 'updated' }, page.updated);
            messagesTotal.inc({ result: 'skipped' }, page.skipped);
          },
        })
      : undefined;

    const fillsTotal = new Counter({
      name: 'hookline_sync_chat_fills_total',
      help: 'Chats a webhook named without details, filled in from the provider, by result: filled, known, not_found, failed.',
      labelNames: ['result'],
      registers: [app.metrics],
    });
    const chats = client
      ? new ChatFiller({
          client,
          database: app.database,
          logger: app.log,
          onFill: (result) => fillsTotal.inc({ result }),
        })
      : undefined;

    const startAll = (trigger: SyncTrigger) => {
      engine
        ?.startAll({ trigger })
        .catch((error: unknown) => app.log.warn({ err: error, trigger }, 'sync could not start'));
    };
    app.decorate('sync', {
      engine,
      onAccountStatus(accountId: string, status: string) {
        if (!engine || !BACK_STATUSES.has(status)) return;
        engine
          .start(accountId, { trigger: 'status' })
          .catch((error: unknown) => app.log.warn({ err: error, accountId }, 'sync could not start'));
      },
      onChatWithoutDetails(accountId: string, chatId: string) {
        chats?.request(accountId, chatId);
      },
      chats,
    });

    new Gauge({
      name: 'hookline_sync_lag_seconds',
      help: 'Age of the oldest account sync watermark: how far back a gap could still hide.',
      registers: [app.metrics],
      async collect() {
        this.set(await oldestWatermarkAgeSeconds(app.database.db));
      },
    });
    app.addReadinessCheck('sync', {
      critical: false,
      run: () => {
        if (!engine) return { ok: true, state: 'disabled', reason: 'sync_not_configured' };
        const failure = engine.authFailure;
        if (failure) return { ok: false, state: 'failed', reason: `provider_${failure.reason}` };
        return { ok: true, state: 'ok' };
      },
    });

    await app.register(async (scope) => syncRoutes(scope, engine));

    let timer: NodeJS.Timeout | undefined;
    if (engine && config.UNIPILE_SYNC_INTERVAL_SECONDS > 0) {
      app.addHook('onReady', async () => {
        startAll('startup');
        timer = setInterval(() => startAll('interval'), config.UNIPILE_SYNC_INTERVAL_SECONDS * 1000);
        timer.unref();
      });
    }
    app.addHook('preClose', async () => {
      clearInterval(timer);
      await Promise.all([engine?.stop(), chats?.stop()]);
    });
    app.addHook('onClose', async () => {
      await client?.close();
    });
  },
  {
    name: 'hookline-sync',
    dependencies: ['hookline-metrics', 'hookline-readiness', 'hookline-credentials'],
  },
);
