import { buildApp } from './app.js';
import { readConfigFromEnv } from './config.js';
import { embeddedClusterDirectory } from './db/embedded/open.js';
import { HooklineError } from './errors.js';
import { createLogger } from './ops/logger.js';
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

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const database = config.DATABASE_URL
    ? 'postgres'
    : `embedded Postgres in ${embeddedClusterDirectory(config.DATA_DIR)}`;
  logger.info({ address, database }, `Hookline listening on ${address}`);
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

main().catch((error: unknown) => {
  if (error instanceof HooklineError && error.code === 'HL_ERR_CONFIG') {
    process.stderr.write(`hookline: ${error.message}\n`);
  } else {
    process.stderr.write(
      `hookline: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
