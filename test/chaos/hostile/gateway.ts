import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createPostgresTestDatabase } from '../../support/postgres-admin.js';

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

/** Starts the gateway with its secrets set, private endpoints refused (SSRF guard on), debug logs. */
export async function startGateway(databaseUrl: string): Promise<Gateway> {
  const created = await createPostgresTestDatabase(databaseUrl, inject('postgresTemplate'));
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-hostile-'));
  const secrets: GatewaySecrets = {
    inbound: `hlin_${randomBytes(24).toString('base64url')}`,
    api: `hlapi_${randomBytes(24).toString('base64url')}`,
    jwt: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('hex'),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: created.url,
      INBOUND_SECRET: secrets.inbound,
      API_TOKEN: secrets.api,
      REALTIME_JWT_SECRET: secrets.jwt,
      ENCRYPTION_KEY: secrets.encryptionKey,
      // Debug logs every request: the widest surface for a leak to show up in.
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      // Token expiry is enforced at heartbeats: a fast one lets the 4001 test finish in seconds.
      REALTIME_HEARTBEAT_INTERVAL_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${output}`)), 30_000);
    const onData = () => {
      const match = /Hookline listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
  const db = new pg.Pool({ connectionString: created.url, max: 2 });
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    secrets,
    db,
    child,
    output: () => output,
    rssBytes: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await db.end().catch(() => {});
      await created.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
