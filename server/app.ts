import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { API_BODY_LIMIT_BYTES } from './app-limits.js';
import { chatsRoutes } from './chats/routes.js';
import type { Config } from './config.js';
import { ChangeSignal } from './db/change-signal.js';
import { type Database, openDatabase } from './db/database.js';
import { openEmbeddedDatabase } from './db/embedded/open.js';
import { applyMigrations } from './db/migrate.js';
import { databasePlugin } from './db/plugin.js';
import { authFailuresPlugin } from './http/auth-failures.js';
import { closeOnShutdownPlugin } from './http/close-on-shutdown.js';
import { connectionCapsPlugin } from './http/connection-caps.js';
import { credentialsPlugin } from './http/credentials.js';
import { clientErrorHandler, errorHandlerPlugin, frameworkErrorHandler } from './http/error-handler.js';
import { lingeringClosePlugin } from './http/lingering-close.js';
import { rejectNulPlugin } from './http/reject-nul.js';
import { httpServerTimeouts } from './http/server-timeouts.js';
import { trustProxyOption } from './http/trust-proxy.js';
import { inboxRoutes } from './inbox/plugin.js';
import { ingestPlugin } from './ingest/index.js';
import { openapiPlugin } from './openapi/plugin.js';
import { metricsPlugin } from './ops/metrics.js';
import { readinessPlugin } from './ops/readiness.js';
import { databaseStartupError } from './ops/startup-errors.js';
import { outboundPlugin } from './outbound/plugin.js';
import { registrationPlugin, unipileWebhook } from './providers/unipile/index.js';
import { readStatusPlugin } from './read-status/index.js';
import { realtimePlugin, sessionsPlugin } from './realtime/index.js';
import type { Secrets } from './secrets.js';
import { sendPlugin } from './send/index.js';
import { syncPlugin } from './sync/plugin.js';
import type { Tunnel } from './tunnel/tunnel.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    /** In-process "a transaction committed" signal: realtime and outbound wake on it. */
    changes: ChangeSignal;
  }
}

/** What `buildApp` needs: the validated config and secrets, and what tests may inject in their place. */
export interface BuildAppOptions {
  /** Validated environment (see server/config.ts). */
  config: Config;
  /** Resolved secrets (see server/secrets.ts). */
  secrets: Secrets;
  /**
   * An already open and migrated database to use instead of opening one from `config`. The app
   * does not close a database it was given. Default: the Postgres server at DATABASE_URL, or
   * without it an embedded cluster started in DATA_DIR/postgres; migrated, and closed (the
   * embedded server stopped) with the app.
   */
  database?: Database;
  /** A pino logger. Default: no logging. */
  logger?: FastifyBaseLogger;
  /**
   * Opens the public URL the provider delivers to when `WEBHOOK_BASE_URL` is unset; opened once
   * the server listens, closed with the app. Default: an ngrok tunnel when `NGROK_AUTHTOKEN` is
   * set, otherwise none. Tests pass a fake one.
   */
  tunnel?: Tunnel;
}

/**
 * Opens the database `config` names and applies pending migrations. A DATABASE_URL that cannot be
 * used (refused, unreachable, no such database, wrong password) is a `StartupError` saying so.
 */
export async function openConfiguredDatabase(config: Config, logger?: FastifyBaseLogger): Promise<Database> {
  try {
    return await openAndMigrate(config, logger);
  } catch (error) {
    throw (config.DATABASE_URL && databaseStartupError(error, config.DATABASE_URL)) || error;
  }
}

async function openAndMigrate(config: Config, logger?: FastifyBaseLogger): Promise<Database> {
  const poolOptions = {
    poolSize: config.DATABASE_POOL_SIZE,
    onPoolError: (error: Error) => logger?.warn({ err: error }, 'idle database connection failed'),
  };
  const database = config.DATABASE_URL
    ? await openDatabase({ ...poolOptions, url: config.DATABASE_URL })
    : await openEmbeddedDatabase({
        ...poolOptions,
        dataDir: config.DATA_DIR,
        onEvent: (message, details) => logger?.info(details, message),
      });
  try {
    await applyMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/**
 * Builds the gateway: every plugin and route, ready for `listen` or `inject`. Never listens;
 * server/main.ts does, and tests build the app with overrides.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // The management and read routes' limit; the webhook route sets its own, larger one.
    bodyLimit: API_BODY_LIMIT_BYTES,
    ...httpServerTimeouts(options.config),
    // Per-request info lines cost too much at ingest rates: the onResponse hook below logs instead.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trustProxyOption(options.config.TRUST_PROXY),
    // Ids in paths (chat ids) may be 512 characters, as ingest accepts them; fastify's default of
    // 100 answered 414 for a longer chat id that was stored and listed.
    routerOptions: { maxParamLength: 512 },
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  const database = options.database ?? (await openConfiguredDatabase(options.config, options.logger));

  app.decorate('config', options.config);
  app.decorate('changes', new ChangeSignal());
  await app.register(authFailuresPlugin, {
    limit: options.config.AUTH_FAILURE_LIMIT,
    windowMs: options.config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
  });
  // Before any route, so that every route's declaration is checked.
  await app.register(credentialsPlugin, {
    apiToken: options.secrets.apiToken,
    webhook: { header: unipileWebhook.authHeader, secret: options.secrets.inboundSecret },
    ...(options.config.METRICS_TOKEN ? { metricsToken: options.config.METRICS_TOKEN } : {}),
  });
  await app.register(openapiPlugin, { webhookAuthHeader: unipileWebhook.authHeader });
  await app.register(errorHandlerPlugin);
  await app.register(closeOnShutdownPlugin);
  await app.register(lingeringClosePlugin);
  await app.register(rejectNulPlugin);
  await app.register(databasePlugin, { database, closeOnShutdown: !options.database });
  await app.register(metricsPlugin);
  await app.register(connectionCapsPlugin);
  await app.register(readinessPlugin);
  await app.register(registrationPlugin, {
    inboundSecret: options.secrets.inboundSecret,
    ...(options.tunnel ? { tunnel: options.tunnel } : {}),
  });

  await app.register(syncPlugin);
  await app.register(ingestPlugin, {
    webhook: unipileWebhook,
    onAccountStatus: (accountId, status) => app.sync.onAccountStatus(accountId, status),
    onChatWithoutDetails: (accountId, chatId) => app.sync.onChatWithoutDetails(accountId, chatId),
    maxBatchSize: options.config.INGEST_MAX_BATCH,
    concurrency: options.config.INGEST_CONCURRENCY,
    maxQueued: options.config.INGEST_MAX_QUEUED,
    overlapMinBatch: options.config.INGEST_OVERLAP_MIN_BATCH,
    overlapMaxWaitMs: options.config.INGEST_OVERLAP_MAX_WAIT_MS,
    statusDedupeSeconds: options.config.INGEST_STATUS_DEDUPE_SECONDS,
    echoMatchSeconds: options.config.SEND_ECHO_MATCH_SECONDS,
  });

  await app.register(sessionsPlugin, { jwtSecret: options.secrets.realtimeJwtSecret });
  await app.register(readStatusPlugin);
  await app.register(chatsRoutes);
  await app.register(inboxRoutes);
  await app.register(realtimePlugin);
  await app.register(outboundPlugin, { encryptionKey: options.secrets.encryptionKey });
  await app.register(sendPlugin);

  app.addReadinessCheck('database', {
    critical: true,
    run: async () => {
      try {
        await database.ping();
        return { ok: true, state: 'ok' };
      } catch (error) {
        app.log.warn({ err: error }, 'readiness: database ping failed');
        return { ok: false, state: 'failed', reason: 'database_unreachable' };
      }
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500) {
      request.log.warn(
        { req: request, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request answered 5xx',
      );
    } else {
      request.log.debug(
        { req: request, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
    }
  });
  return app;
}
