import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedCluster } from '../../server/db/embedded/cluster.js';
import { testEnv } from './env.js';
import { ensurePostgresTemplate } from './postgres-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Postgres server of this run: TEST_DATABASE_URL, or the embedded cluster started for it. */
    testDatabaseUrl: string;
    /** The migrated template database each test file's database is cloned from. */
    postgresTemplate: string;
  }
}

/** A free loopback port (the proxy-based outage tests reach the server over TCP). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject()));
    });
  });
}

/**
 * Throwaway-cluster settings: durability off (the data dies with the run), room for every test
 * file's pools at once.
 */
export const THROWAWAY_CLUSTER_SETTINGS = {
  fsync: 'off',
  full_page_writes: 'off',
  synchronous_commit: 'off',
  max_connections: '300',
};

/**
 * Runs once per `vitest run`: uses TEST_DATABASE_URL's server, or starts an embedded cluster (the
 * binaries `npm start` runs) in a temporary directory for the run; then makes sure the migrated
 * template exists there.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = testEnv.databaseUrl;
  let cleanup = async () => {};
  if (!url) {
    const directory = await mkdtemp(join(tmpdir(), 'hookline-test-'));
    const cluster = new EmbeddedCluster({
      directory: join(directory, 'postgres'),
      tcpPort: await freeTcpPort(),
      settings: THROWAWAY_CLUSTER_SETTINGS,
    });
    await cluster.start();
    url = cluster.url('postgres');
    cleanup = async () => {
      await cluster.stop();
      await rm(directory, { recursive: true, force: true });
    };
  }
  try {
    project.provide('postgresTemplate', await ensurePostgresTemplate(url));
  } catch (error) {
    await cleanup();
    throw error;
  }
  project.provide('testDatabaseUrl', url);
  return cleanup;
}
