import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { createPostgresTestDatabase } from '../../support/postgres-admin.js';
import { startGateway as startGatewayProcess } from '../support/gateway-process.js';

/** The secrets the gateway under attack runs with: none may ever appear in an answer or a log line. */
export interface GatewaySecrets {
  inbound: string;
  api: string;
  jwt: string;
  encryptionKey: string;
}

/** One real gateway process (`node --import tsx server/main.ts`) on a fresh Postgres database. */
export interface Gateway {
  url: string;
  wsUrl: string;
  secrets: GatewaySecrets;
  /** A pool on the gateway's own database, to check what was stored. */
  db: pg.Pool;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resident set size of the process, from /proc. */
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the gateway with its secrets set, private endpoints refused (SSRF guard on), debug logs;
 * `env` overrides any of it.
 */
export async function startGateway(databaseUrl: string, env: Record<string, string> = {}): Promise<Gateway> {
  const created = await createPostgresTestDatabase(databaseUrl, inject('postgresTemplate'));
  const secrets: GatewaySecrets = {
    inbound: `hlin_${randomBytes(24).toString('base64url')}`,
    api: `hlapi_${randomBytes(24).toString('base64url')}`,
    jwt: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('hex'),
  };
  const gatewayProcess = await startGatewayProcess({
    databaseUrl: created.url,
    env: {
      INBOUND_SECRET: secrets.inbound,
      API_TOKEN: secrets.api,
      REALTIME_JWT_SECRET: secrets.jwt,
      ENCRYPTION_KEY: secrets.encryptionKey,
      ALLOW_PRIVATE_ENDPOINTS: 'false',
      // Debug logs every request: the widest surface for a leak to show up in. All of it is kept.
      LOG_LEVEL: 'debug',
      // Token expiry is enforced at heartbeats: a fast one lets the 4001 test finish in seconds.
      REALTIME_HEARTBEAT_INTERVAL_MS: '1000',
      // Every forged credential must get its own check's answer (401 and its reason), not the
      // 429 the failure limit gives an address after 30 of them.
      AUTH_FAILURE_LIMIT: '1000000',
      ...env,
    },
    keepOutputChars: Number.POSITIVE_INFINITY,
  });
  const db = new pg.Pool({ connectionString: created.url, max: 2 });
  return {
    url: gatewayProcess.url,
    wsUrl: gatewayProcess.url.replace(/^http/, 'ws'),
    secrets,
    db,
    child: gatewayProcess.child,
    output: gatewayProcess.output,
    rssBytes: async () => {
      const status = await readFile(`/proc/${gatewayProcess.child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
    },
    stop: async () => {
      await gatewayProcess.stop();
      await db.end().catch(() => {});
      await created.drop();
    },
  };
}
