import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openEmbeddedDatabase } from '../../server/db/embedded/open.js';
import { readPostmasterFile } from '../../server/db/embedded/postmaster.js';
import { queryRows } from '../../server/db/rows.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { runScript, type ScriptResult } from '../support/processes.js';
import { openNonReadingWebSocket, openStalledRequest } from '../support/raw-connections.js';
import { waitFor } from '../support/wait.js';

/** Each gateway here starts (the first one also initialises) an embedded Postgres cluster. */
const GATEWAY_TEST_TIMEOUT_MS = 120_000;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts the real entry point (`npm start` runs the same file) on a free port. */
async function startGateway(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_FORMAT: 'json', ...env },
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
    const timer = setTimeout(() => reject(new Error(`no listening line within 60 s:\n${output}`)), 60_000);
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
  return { child, url, output: () => output };
}

/** Exchanges an inbox login code on a running gateway. */
async function login(url: string, code: string): Promise<{ status: number; token: string | undefined }> {
  const response = await fetch(`${url}/api/realtime/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  const body = (await response.json()) as { token?: string };
  return { status: response.status, token: body.token };
}

/** Runs a tools/ script as `npm run` does, with only PATH and `env`. */
function runTool(script: string, env: Record<string, string>): Promise<ScriptResult> {
  return runScript(script, [], { PATH: process.env.PATH ?? '', ...env });
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

describe('server/main.ts as a process', () => {
  it(
    'prints the listening URL, serves, and exits 0 on SIGTERM',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-main-'));
      const gateway = await startGateway({ DATA_DIR: dataDir });
      const response = await fetch(`${gateway.url}/readyz`);
      expect(response.status).toBe(200);
      expect(await stop(gateway.child)).toBe(0);
      expect(gateway.output()).toContain('shut down cleanly');
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it(
    'keeps the generated secrets and the data across a restart, and never logs a secret',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-restart-'));
      const first = await startGateway({ DATA_DIR: dataDir });
      expect(await stop(first.child, 'SIGINT')).toBe(0);
      // Stopped with the gateway: no server left on the cluster's directory.
      expect(await readPostmasterFile(join(dataDir, 'postgres'))).toBeUndefined();
      const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as Record<
        string,
        string
      >;

      const database = await openEmbeddedDatabase({ dataDir });
      await database.db.execute(sql`insert into accounts (id, provider) values ('acc-restart', 'unipile')`);
      await database.close();

      const second = await startGateway({ DATA_DIR: dataDir });
      expect(await stop(second.child)).toBe(0);
      expect(JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8'))).toEqual(secrets);

      const reopened = await openEmbeddedDatabase({ dataDir });
      const rows = await queryRows(reopened.db, sql`select id from accounts`);
      await reopened.close();
      expect(rows).toEqual([{ id: 'acc-restart' }]);

      for (const value of Object.values(secrets)) {
        expect(first.output()).not.toContain(value);
        expect(second.output()).not.toContain(value);
      }
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it(
    'after a kill -9, stops the Postgres it left running and keeps every acknowledged webhook',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-kill-'));
      const first = await startGateway({ DATA_DIR: dataDir });
      const { INBOUND_SECRET } = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as {
        INBOUND_SECRET: string;
      };
      const account = fakeAccount();
      const ids = ['msg_kill_1', 'msg_kill_2', 'msg_kill_3'];
      for (const messageId of ids) {
        const response = await fetch(`${first.url}${UNIPILE_WEBHOOK_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'unipile-auth': INBOUND_SECRET },
          body: JSON.stringify(messageReceived({ account, chatId: 'chat_kill', messageId })),
        });
        expect(response.ok).toBe(true);
      }
      const orphan = await readPostmasterFile(join(dataDir, 'postgres'));
      expect(await stop(first.child, 'SIGKILL')).toBeNull();

      const second = await startGateway({ DATA_DIR: dataDir });
      const restarted = await readPostmasterFile(join(dataDir, 'postgres'));
      expect(restarted?.pid).not.toBe(orphan?.pid);
      expect(second.output()).toContain('left running by a previous process');
      expect(await stop(second.child)).toBe(0);

      const database = await openEmbeddedDatabase({ dataDir });
      const rows = await queryRows<{ id: string }>(database.db, sql`select id from messages order by id`);
      await database.close();
      expect(rows.map((row) => row.id)).toEqual(ids);
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it(
    'creates every file and directory in DATA_DIR owner-only',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-modes-'));
      const gateway = await startGateway({ DATA_DIR: dataDir });
      expect(await stop(gateway.child)).toBe(0);
      const entries = await readdir(dataDir, { recursive: true });
      expect(entries.length).toBeGreaterThan(2);
      // As root the embedded server runs as 'postgres', which may pass through DATA_DIR (search
      // only, never read); a Unix socket's access is its 0700 directory's.
      const passable = process.getuid?.() === 0 ? 0o001 : 0;
      const loose: string[] = [];
      for (const entry of ['.', ...entries]) {
        const info = await stat(join(dataDir, entry));
        if (info.isSocket()) continue;
        const allowed = entry === '.' ? passable : 0;
        if ((info.mode & 0o077 & ~allowed) !== 0) loose.push(`${entry} ${(info.mode & 0o777).toString(8)}`);
      }
      expect(loose).toEqual([]);
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it(
    'prints no token when listening beyond loopback, but how to mint one',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-public-'));
      const gateway = await startGateway({ DATA_DIR: dataDir, HOST: '0.0.0.0' });
      try {
        const line = await waitFor(() => /Inbox: [^"]+/.exec(gateway.output())?.[0], 'the inbox line');
        expect(line).toContain('POST ');
        expect(line).toContain('/api/realtime/tokens');
        expect(gateway.output()).not.toMatch(/token=ey/);
      } finally {
        expect(await stop(gateway.child)).toBe(0);
      }
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it('refuses bad configuration with one line naming the variable, exit code 1', async () => {
    const { code, stderr } = await runScript('server/main.ts', [], {
      PATH: process.env.PATH ?? '',
      PORT: 'not-a-port',
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('PORT:');
  });
  it(
    'prints a single-use inbox login link (no token), and npm run inbox-link prints a fresh one',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-inbox-'));
      const gateway = await startGateway({ DATA_DIR: dataDir });
      try {
        const inbox = await waitFor(
          () => /Inbox: (http:\/\/[^\s"]+)/.exec(gateway.output())?.[1],
          'the inbox line',
        );
        // Logs are shipped and kept: the line holds a code that works once, never a token.
        expect(new URL(inbox).searchParams.has('token')).toBe(false);
        expect(gateway.output()).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./);
        const code = new URL(inbox).searchParams.get('code') ?? '';
        const first = await login(gateway.url, code);
        expect(first.status).toBe(200);
        expect(decodeJwt(first.token ?? '')).toMatchObject({ all: true });
        const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws/messages?token=${first.token}`);
        const hello = await new Promise<string>((resolve, reject) => {
          socket.once('message', (data) => resolve(data.toString()));
          socket.once('error', reject);
        });
        expect(JSON.parse(hello)).toMatchObject({ type: 'hello' });
        socket.close();
        expect((await login(gateway.url, code)).status).toBe(401);

        // A fresh link for the running gateway, through its API token (from DATA_DIR's secrets).
        const port = new URL(gateway.url).port;
        const printed = await runTool('tools/inbox-link.ts', { DATA_DIR: dataDir, PORT: port });
        expect(printed.code).toBe(0);
        const link = /(http:\/\/\S+)/.exec(printed.stdout)?.[1] ?? '';
        expect((await login(gateway.url, new URL(link).searchParams.get('code') ?? '')).status).toBe(200);
      } finally {
        expect(await stop(gateway.child)).toBe(0);
      }
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );

  it(
    'exits 0 within its shutdown budget with stalled requests and a socket that never reads attached',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'hookline-stalled-'));
      // Request timeouts far beyond the budget: only the shutdown can end these connections.
      const gateway = await startGateway({
        DATA_DIR: dataDir,
        SHUTDOWN_TIMEOUT_MS: '3000',
        HTTP_REQUEST_TIMEOUT_MS: '600000',
        HTTP_HEADERS_TIMEOUT_MS: '600000',
      });
      const port = Number(new URL(gateway.url).port);
      const code = new URL(
        await waitFor(() => /Inbox: (http:\/\/[^\s"]+)/.exec(gateway.output())?.[1], 'the inbox line'),
      ).searchParams.get('code');
      const { token } = await login(gateway.url, code ?? '');
      const stalled = await Promise.all([
        openStalledRequest(
          port,
          'POST /api/webhooks/unipile/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n',
          10,
        ),
        openStalledRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 0),
      ]);
      const socket = await openNonReadingWebSocket(port, `/ws/messages?token=${token}`);
      socket.on('error', () => {});
      expect(await stop(gateway.child)).toBe(0);
      expect(gateway.output()).toContain('shut down cleanly');
      for (const request of stalled) request.socket.destroy();
      socket.destroy();
    },
    GATEWAY_TEST_TIMEOUT_MS,
  );
});
