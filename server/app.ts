import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from './config.js';
import { ChangeSignal } from './db/change-signal.js';
import { type Database, openDatabase } from './db/database.js';
import { applyMigrations } from './db/migrate.js';
import { databasePlugin } from './db/plugin.js';
import { apiAuthPlugin } from './http/api-auth.js';
import { errorHandlerPlugin } from './http/error-handler.js';
import { metricsPlugin } from './ops/metrics.js';
import { readinessPlugin } from './ops/readiness.js';
import { outboundPlugin } from './outbound/plugin.js';
import type { Secrets } from './secrets.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    /** In-process "a transaction committed" signal: realtime and outbound wake on it. */
    changes: ChangeSignal;
  }
}

/** Largest request body accepted anywhere (DESIGN.md: 1 MiB, 413 above). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface BuildAppOptions {
  /** Validated environment (see server/config.ts). */
  config: Config;
  /** Resolved secrets (see server/secrets.ts). */
  secrets: Secrets;
  /**
   * An already open and migrated database to use instead of opening one from `config`. The app
   * does not close a database it was given. Default: open PGlite in DATA_DIR or Postgres at
   * DATABASE_URL, migrate it, and close it with the app.
   */
  database?: Database;
  /** A pino logger. Default: no logging. */
  logger?: FastifyBaseLogger;
}

/** Opens the database `config` names and applies pending migrations. */
export async function openConfiguredDatabase(config: Config, logger?: FastifyBaseLogger): Promise<Database> {
  const database = config.DATABASE_URL
    ? await openDatabase({
        kind: 'postgres',
        url: config.DATABASE_URL,
        poolSize: config.DATABASE_POOL_SIZE,
        onPoolError: (error) => logger?.warn({ err: error }, 'idle database connection failed'),
      })
    : await openDatabase({ kind: 'pglite', dataDir: `${config.DATA_DIR}/pglite` });
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
    bodyLimit: BODY_LIMIT_BYTES,
    // Per-request info lines cost too much at ingest rates: the onResponse hook below logs instead.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    return503OnClosing: true,
  });
  const database = options.database ?? (await openConfiguredDatabase(options.config, options.logger));

  app.decorate('config', options.config);
  app.decorate('changes', new ChangeSignal());
  await app.register(errorHandlerPlugin);
  await app.register(databasePlugin, { database, closeOnShutdown: !options.database });
  await app.register(metricsPlugin);
  await app.register(readinessPlugin);
  await app.register(apiAuthPlugin, { apiToken: options.secrets.apiToken });
  await app.register(outboundPlugin, { encryptionKey: options.secrets.encryptionKey });

  app.addReadinessCheck('database', {
    critical: true,
    run: async () => {
      await database.ping();
      return { ok: true, state: 'ok' };
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
