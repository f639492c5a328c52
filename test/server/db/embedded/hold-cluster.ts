import { EmbeddedCluster } from '../../../../server/db/embedded/cluster.js';

/**
 * A process that starts the cluster in argv[2], prints `READY <server pid>`, and waits to be
 * killed: the lifecycle test kill -9s it to leave the server behind, as a killed gateway does.
 */
const cluster = new EmbeddedCluster({ directory: process.argv[2]! });
cluster.start().then(
  () => {
    process.stdout.write(`READY ${cluster.serverPid}\n`);
    setInterval(() => {}, 60_000);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
