import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import { gatewayNodeFlags } from '../../support/gateway-flags.js';

/**
 * Fixed secrets for every chaos gateway: instances sharing one database must share them (tokens
 * minted by one are checked by the other, endpoint secrets are decrypted by whichever claims).
 */
export const CHAOS_SECRETS = {
  INBOUND_SECRET: 'chaos-inbound-secret-0123456789',
  API_TOKEN: 'chaos-api-token-0123456789',
  REALTIME_JWT_SECRET: 'chaos-realtime-jwt-secret-0123456789abcdef',
  ENCRYPTION_KEY: '07'.repeat(32),
} as const;

export const apiHeaders = {
  authorization: `Bearer ${CHAOS_SECRETS.API_TOKEN}`,
  'content-type': 'application/json',
};

export const WEBHOOK_PATH = '/api/webhooks/unipile/messages';

/** Posts `payload` to a gateway's webhook route as the provider does (its secret header, JSON). */
export function deliverWebhook(gatewayUrl: string, payload: unknown): Promise<Response> {
  return fetch(`${gatewayUrl}${WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'unipile-auth': CHAOS_SECRETS.INBOUND_SECRET, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
}

/** Keep only the tail of a gateway's log: a 5,000-request burst would otherwise fill memory. */
const MAX_OUTPUT_CHARS = 200_000;

export interface GatewayProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** The tail of stdout and stderr, for failure messages. */
  output(): string;
  /** `kill -9`: no shutdown hook runs, in-flight requests and transactions are cut. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the graceful shutdown to finish; resolves to the exit code (0: clean). */
  stop(): Promise<number | null>;
}

export interface GatewayOptions {
  databaseUrl: string;
  /** Listen on this port (a restart keeps its address so the provider's retries find it); default a free one. */
  port?: number;
  /** Extra environment, e.g. OUTBOUND_* tuning; it may override the chaos secrets. */
  env?: Record<string, string>;
  /** How much of the log to keep, from the end. Default 200,000 characters. */
  keepOutputChars?: number;
  /** The checkout to run (another worktree, for before/after figures). Default this process's directory. */
  cwd?: string;
  /**
   * Called with the process as soon as it is spawned, before it answers: a gateway can act (send,
   * deliver) before `startGateway` returns, and a scenario that kills it mid-act needs it by then.
   */
  onSpawn?: (child: ChildProcess) => void;
}

const running = new Set<GatewayProcess>();
/** Every gateway of this file, dead or alive, for {@link printGatewayLogsOnFailure}. */
const started: GatewayProcess[] = [];

/**
 * Starts the real entry point as `npm start` runs it (`node <its V8 options> --import tsx
 * server/main.ts`) against `databaseUrl` and resolves once it answers /healthz.
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  // Secrets come from the environment, so the data directory stays empty; it goes with the process.
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-chaos-'));
  const child = spawn(process.execPath, [...gatewayNodeFlags(), '--import', 'tsx', 'server/main.ts'], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: dataDir,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
      ALLOW_PRIVATE_ENDPOINTS: 'true',
      ...CHAOS_SECRETS,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let output = '';
  const keep = options.keepOutputChars ?? MAX_OUTPUT_CHARS;
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-keep);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => void rm(dataDir, { recursive: true, force: true }).finally(resolve)),
  );

  // LOG_LEVEL=warn keeps 5,000 request lines out of the pipe, so readiness is polled instead.
  const deadline = Date.now() + 30_000;
  while (!(await answersHealth(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}) before listening:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not answer /healthz within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const gateway: GatewayProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      running.delete(gateway);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      running.delete(gateway);
      return child.exitCode;
    },
  };
  running.add(gateway);
  started.push(gateway);
  return gateway;
}

async function answersHealth(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then(
    (response) => response.ok,
    () => false,
  );
}

/** A port nothing listens on right now, for a gateway that must keep its address across a restart. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Kills every gateway still running: for afterAll, so a failed scenario leaves no process behind. */
export async function killAllGateways(): Promise<void> {
  await Promise.all([...running].map((gateway) => gateway.kill()));
}

/**
 * Registers (inside a test) printing every gateway's log tail if the test fails: a chaos failure
 * in CI is only explainable with what the processes said.
 */
export function printGatewayLogsOnFailure(): void {
  onTestFailed(() => {
    for (const [index, gateway] of started.entries()) {
      process.stderr.write(
        `\n--- gateway ${index} (${gateway.url}) log tail ---\n${gateway.output().slice(-8000)}\n`,
      );
    }
  });
}
