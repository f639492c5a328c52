import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { type Config, GENERATED_SECRETS, readConfigFromEnv } from './config.js';
import { embeddedClusterDirectory } from './db/embedded/open.js';
import { HooklineError, startupFailureLine } from './errors.js';
import { createLogger } from './ops/logger.js';
import { assertDataDirWritable, assertPortAvailable, listenStartupError } from './ops/startup-errors.js';
import { checkUnipileKey } from './providers/unipile/index.js';
import { issueLoginCode, LOGIN_CODE_TTL_SECONDS, loginUrl } from './realtime/login.js';
import { isLoopbackHost } from './realtime/tokens.js';
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
  startupLogger = logger;
  await checkBeforeStarting(config, logger);
  const { secrets, generated, file } = await resolveSecrets(config);
  if (generated.length > 0)
    logger.info({ generated, file }, 'generated secrets on first start (values not logged)');

  const app = await buildApp({ config, secrets, logger });
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

  const address = await listen(app, config);
  if (isLoopbackHost(config.HOST)) {
    // A single-use code, not a credential: once the page has used it, this line opens nothing.
    const { code } = await issueLoginCode(app);
    logger.info(
      `Inbox: ${loginUrl(address, code)} (single-use login link, valid ${LOGIN_CODE_TTL_SECONDS / 60} minutes; ` +
        'a new one: npm run inbox-link)',
    );
  } else {
    logger.info(
      `Inbox: ${new URL('/', address)}?token=<connection token> (mint one: POST ${new URL('/api/realtime/tokens', address)} ` +
        `with Authorization: Bearer <API_TOKEN> and {"accountIds":[…]})`,
    );
  }
}

/** The process logger once it exists: a failed start logs its cause there. */
let startupLogger: Logger | undefined;

/**
 * What can be checked before the database starts, so a start that cannot succeed starts nothing:
 * PORT is free, DATA_DIR is writable when it is used (the embedded Postgres, generated secrets),
 * and the provider accepts UNIPILE_API_KEY.
 */
async function checkBeforeStarting(config: Config, logger: Logger): Promise<void> {
  await assertPortAvailable(config.PORT, config.HOST);
  if (!config.DATABASE_URL || GENERATED_SECRETS.some((name) => !config[name])) {
    await assertDataDirWritable(config.DATA_DIR);
  }
  const key = await checkUnipileKey(config);
  if (key.state === 'unverified') {
    logger.warn({ reason: key.reason }, 'could not check UNIPILE_API_KEY at start-up; registration retries');
  }
}

/**
 * Listens, logging "listening" once: fastify logs a line per address (every interface's for
 * 0.0.0.0) with the text it is given, so the other addresses follow the first. A failed listen
 * closes the app (stopping the embedded Postgres) and says which setting to change.
 */
async function listen(app: FastifyInstance, config: Config): Promise<string> {
  const database = config.DATABASE_URL
    ? 'postgres'
    : `embedded Postgres in ${embeddedClusterDirectory(config.DATA_DIR)}`;
  let said = false;
  const listenTextResolver = (address: string) => {
    const text = said ? `also reachable at ${address}` : `Hookline listening on ${address} (${database})`;
    said = true;
    return text;
  };
  try {
    return await app.listen({ port: config.PORT, host: config.HOST, listenTextResolver });
  } catch (error) {
    await app.close().catch(() => {});
    throw listenStartupError(error, config.PORT, config.HOST) ?? error;
  }
}

/**
 * The one handler of a failed start: one line on stderr naming the setting and the fix, and exit
 * 1. The cause of a known failure goes to the debug log; anything else is a bug, logged whole.
 * What had started was stopped on the way: a database that cannot be migrated is closed
 * (openConfiguredDatabase), and a failed `listen` closes the app.
 */
function exitOnStartupFailure(error: unknown): never {
  if (error instanceof HooklineError) startupLogger?.debug({ err: error.cause ?? error }, 'start-up failed');
  else startupLogger?.error({ err: error }, 'start-up failed');
  process.stderr.write(`hookline: ${startupFailureLine(error)}\n`);
  process.exit(1);
}

main().catch(exitOnStartupFailure);
