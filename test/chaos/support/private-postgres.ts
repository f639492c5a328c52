import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../../server/db/embedded/cluster.js';
import { THROWAWAY_CLUSTER_SETTINGS } from '../../support/global-setup.js';
import { freePort } from './gateway-process.js';

/**
 * A throwaway Postgres cluster of one scenario's own, so it can be stopped and started without
 * touching the server the other tests use. It runs the embedded binaries `npm start` runs, so
 * nothing needs installing.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** A fast shutdown: connections are cut, in-flight transactions roll back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster (if running) and deletes its files. */
  destroy(): Promise<void>;
}

/** Initialises and starts a cluster on a free loopback port, durability off (the data is thrown away). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'hookline-pg-'));
  const cluster = new EmbeddedCluster({
    directory: join(root, 'data'),
    tcpPort: await freePort(),
    settings: THROWAWAY_CLUSTER_SETTINGS,
  });
  await cluster.start();
  return {
    url: cluster.url('postgres'),
    start: async () => {
      await cluster.start();
    },
    stop: () => cluster.stop(),
    destroy: async () => {
      await cluster.stop().catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
