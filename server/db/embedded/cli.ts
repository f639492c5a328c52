import { readConfigFromEnv } from '../../config.js';
import { HooklineError } from '../../errors.js';
import { EmbeddedCluster } from './cluster.js';
import { EMBEDDED_DATABASE_NAME, embeddedClusterDirectory } from './open.js';

/**
 * `npm run db:embedded`: runs the embedded cluster of DATA_DIR without the gateway, for pg_dump,
 * psql or pg_restore while the gateway is stopped (so no webhook lands after the dump), until
 * Ctrl-C or SIGTERM stops it. The gateway must not be running on the same DATA_DIR.
 */
async function main(): Promise<void> {
  const config = readConfigFromEnv();
  const cluster = new EmbeddedCluster({ directory: embeddedClusterDirectory(config.DATA_DIR) });
  await cluster.start();
  // The server runs detached: without this the process would exit at once and leave it running.
  const keepAlive = setInterval(() => {}, 60_000);
  const stop = () => {
    clearInterval(keepAlive);
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(
    `Embedded Postgres running (pid ${cluster.serverPid}); Ctrl-C stops it.\n` +
      `URL: ${cluster.url(EMBEDDED_DATABASE_NAME)}\n` +
      `pg_dump --host=${cluster.directory} --port=${cluster.port} --username=postgres --format=custom --file=hookline.dump ${EMBEDDED_DATABASE_NAME}\n`,
  );
}

main().catch((error: unknown) => {
  const message =
    error instanceof HooklineError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`hookline: ${message}\n`);
  process.exit(1);
});
