import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { type Config, readConfigFromEnv } from './config.js';
import { embeddedClusterDirectory } from './db/embedded/open.js';
import { HooklineError, startupFailureLine } from './errors.js';
import { createLogger } from './ops/logger.js';
import { assertPortAvailable, listenStartupError } from './ops/startup-errors.js';
import { checkUnipileKey } from './providers/unipile/index.js';
import { DEV_TOKEN_TTL_SECONDS, inboxUrl, isLoopbackHost } from './realtime/tokens.js';
import { resolveSecrets } from './secrets.js';

/**
 * The process entry point: reads the environment, listens, prints where to go, and shuts down
 * gracefully on SIGINT/SIGTERM within SHUTDOWN_TIMEOUT_MS.
 */
async function main(): Promise<void> {
  // Everything this process creates (the secrets file, DATA_DIR) is owner-only; the embedded
  // cluster's own folder is 0700 as Postgres requires.
  process.umask(0o077);
  const config = readConfigFromEnv();
  const logger = createLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
  });
  let app: FastifyInstance | undefined;
  try {
    app = await start(config, logger, (built) => {
      app = built;
    });
  } catch (error) {
    // Nothing is left running: closing the app stops the embedded Postgres it started.
    await app?.close().catch(() => {});
    exitOnStartupFailure(error, logger);
  }
}

/**
 * Checks what can be checked before the database starts (the port, the provider key), builds the
 * app, installs the signal handlers and listens. `onBuilt` hands the app over as soon as it exists,
 * so a failed `listen` can close it.
 */
async function start(
  config: Config,
  logger: Logger,
  onBuilt: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  await assertPortAvailable(config.PORT, config.HOST);
  const key = await checkUnipileKey(config);
  if (key.state === 'unverified') {
    logger.warn({ reason: key.reason }, 'could not check UNIPILE_API_KEY at start-up; registration retries');
  }
  const { secrets, generated, file } = await resolveSecrets(config);
  if (generated.length > 0)
    logger.info({ generated, file }, 'generated secrets on first start (values not logged)');

  const app = await buildApp({ config, secrets, logger });
  onBuilt(app);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down');
    const forced = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out: exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    forced.unref();
    try {
      await app.close();
      logger.info('shut down cleanly');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const database = config.DATABASE_URL
    ? 'postgres'
    : `embedded Postgres in ${embeddedClusterDirectory(config.DATA_DIR)}`;
  // Fastify logs a line per address itself (every interface's for 0.0.0.0): it is given
  // Hookline's text, so "listening" is said once and the other addresses follow it.
  let listening = false;
  const listenText = (at: string) => {
    const text = listening ? `also reachable at ${at}` : `Hookline listening on ${at} (${database})`;
    listening = true;
    return text;
  };
  const address = await app
    .listen({ port: config.PORT, host: config.HOST, listenTextResolver: listenText })
    .catch((error: unknown) => {
      throw listenStartupError(error, config.PORT, config.HOST) ?? error;
    });
  const inbox = await inboxUrl(address, config.HOST, secrets.realtimeJwtSecret);
  if (isLoopbackHost(config.HOST)) {
    logger.info(
      `Inbox: ${inbox} (token valid ${DEV_TOKEN_TTL_SECONDS / 60} minutes; the open page renews it)`,
    );
  } else {
    logger.info(
      `Inbox: ${inbox}?token=<connection token> (mint one: POST ${new URL('/api/realtime/tokens', address)} ` +
        `with Authorization: Bearer <API_TOKEN> and {"accountIds":[…]})`,
    );
  }
  return app;
}

/**
 * The one handler of a failed start: one line on stderr naming the setting and the fix, and exit
 * 1. The cause of a known failure goes to the debug log; anything else is a bug, logged whole.
 */
function exitOnStartupFailure(error: unknown, logger?: Logger): never {
  if (error instanceof HooklineError) logger?.debug({ err: error.cause ?? error }, 'start-up failed');
  else logger?.error({ err: error }, 'start-up failed');
  process.stderr.write(`hookline: ${startupFailureLine(error)}\n`);
  process.exit(1);
}

main().catch((error: unknown) => exitOnStartupFailure(error));
