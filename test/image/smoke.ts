/**
 * `npx tsx test/image/smoke.ts [--image NAME]`: the container image's smoke test, run by .ci/run
 * after `npm run image -- --local-base`. The image on its embedded Postgres must serve /healthz,
 * take a webhook, serve it back over the API and a WebSocket, run as non-root, stop cleanly on
 * SIGTERM, and keep the message across a new container on the same volume. Prints the image size,
 * the time from `run` to a healthy /healthz, and the gateway's idle resident memory.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import WebSocket from 'ws';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';

const { values } = parseArgs({
  options: { image: { type: 'string', default: 'localhost/hookline:latest' } },
});
const image = values.image;
const exec = promisify(execFile);

async function engineName(): Promise<string> {
  for (const name of ['podman', 'docker']) {
    if (
      await exec(name, ['info']).then(
        () => true,
        () => false,
      )
    ) {
      return name;
    }
  }
  throw new Error('neither podman nor docker works here');
}
const engine = await engineName();
const run = async (...args: string[]) => (await exec(engine, args, { maxBuffer: 16 << 20 })).stdout.trim();

const name = `hookline-smoke-${process.pid}`;
const volume = name;
const inboundSecret = randomBytes(24).toString('base64url');
const apiToken = randomBytes(24).toString('base64url');
let passed = 0;

function check(what: string, ok: boolean, detail = ''): void {
  if (!ok) throw new Error(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  passed += 1;
  process.stdout.write(`ok   ${what}${detail ? ` (${detail})` : ''}\n`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a container on the volume; resolves with its base URL and the ms until /healthz answered. */
async function startContainer(): Promise<{ base: string; ms: number }> {
  const port = await freePort();
  const began = performance.now();
  await run(
    'run',
    '--detach',
    '--name',
    name,
    '--publish',
    `127.0.0.1:${port}:3000`,
    '--volume',
    `${volume}:/data`,
    '--env',
    `INBOUND_SECRET=${inboundSecret}`,
    '--env',
    `API_TOKEN=${apiToken}`,
    image,
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { base, ms: Math.round(performance.now() - began) };
    if (Date.now() > deadline) throw new Error(`no /healthz within 120 s:\n${await run('logs', name)}`);
    await sleep(50);
  }
}

/** SIGTERM (`stop`), then the exit code and whether the gateway said it shut down cleanly. */
async function stopContainer(): Promise<{ exitCode: number; clean: boolean }> {
  await run('stop', '--time', '30', name);
  const exitCode = Number(await run('inspect', name, '--format', '{{.State.ExitCode}}'));
  const logs = await exec(engine, ['logs', name]).then(({ stdout, stderr }) => stdout + stderr);
  await run('rm', name);
  return { exitCode, clean: logs.includes('shut down cleanly') };
}

/** `<status> <body>` of the chat's message list. */
async function messagesOf(base: string, chatId: string): Promise<string> {
  const response = await fetch(`${base}/api/chats/${chatId}/messages`, {
    headers: { authorization: `Bearer ${apiToken}` },
  });
  return `${response.status} ${await response.text()}`;
}

async function firstEnvelope(base: string, token: string): Promise<{ type: string; data?: unknown }> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/ws/messages?token=${token}&since=0`);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('message', (data) => {
        const envelope = JSON.parse(data.toString()) as { type: string };
        if (envelope.type === 'message:new') resolve(envelope);
      });
      socket.once('error', reject);
      setTimeout(() => reject(new Error('no message:new within 10 s')), 10_000).unref();
    });
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const size = Number(await run('image', 'inspect', image, '--format', '{{.Size}}'));
  process.stdout.write(`${image}: ${(size / 1e6).toFixed(0)} MB (${engine})\n`);

  const first = await startContainer();
  check('serves /healthz', true, `${first.ms} ms from run, first start with initdb`);
  if (engine === 'podman') {
    // The image's HEALTHCHECK, run once by hand (podman schedules it through systemd timers).
    const healthy = await exec(engine, ['healthcheck', 'run', name]).then(
      () => true,
      () => false,
    );
    check('its HEALTHCHECK passes', healthy);
  }
  check('runs as non-root', (await run('exec', name, 'id', '-u')) !== '0');
  const owner = await run('exec', name, 'stat', '-c', '%U', '/data/postgres/PG_VERSION');
  check('the embedded Postgres runs as the same user', owner === 'node', owner);

  const account = fakeAccount();
  const chatId = `chat_smoke_${process.pid}`;
  const messageId = `msg_smoke_${process.pid}`;
  const webhook = await fetch(`${first.base}${UNIPILE_WEBHOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'unipile-auth': inboundSecret },
    body: JSON.stringify(messageReceived({ account, chatId, messageId })),
  });
  check('takes a webhook', webhook.status === 200, String(webhook.status));
  const listed = await messagesOf(first.base, chatId);
  check(
    'serves it over the API',
    listed.startsWith('200 ') && listed.includes(messageId),
    listed.slice(0, 3),
  );

  const minted = await fetch(`${first.base}/api/realtime/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accountIds: [account.id] }),
  });
  const { token } = (await minted.json()) as { token: string };
  const envelope = await firstEnvelope(first.base, token);
  check('serves it over a WebSocket', JSON.stringify(envelope).includes(messageId));

  await sleep(5000);
  const status = await run('exec', name, 'cat', '/proc/1/status');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  process.stdout.write(`idle gateway RSS (node, pid 1): ${(rssKb / 1024).toFixed(0)} MB\n`);

  const stopped = await stopContainer();
  check('stops cleanly on SIGTERM', stopped.exitCode === 0 && stopped.clean, `exit ${stopped.exitCode}`);

  const second = await startContainer();
  check('starts again on its volume', true, `${second.ms} ms from run`);
  const kept = await messagesOf(second.base, chatId);
  check(
    'keeps the message across containers',
    kept.startsWith('200 ') && kept.includes(messageId),
    kept.slice(0, 3),
  );
  const again = await stopContainer();
  check('stops cleanly again', again.exitCode === 0 && again.clean, `exit ${again.exitCode}`);
}

try {
  await main();
  process.stdout.write(`image smoke: ${passed} passed, 0 failed\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  await exec(engine, ['logs', name]).then(
    ({ stdout, stderr }) => process.stderr.write(`container log:\n${stdout}${stderr}\n`),
    () => {},
  );
  process.stdout.write(`image smoke: ${passed} passed, 1 failed\n`);
  process.exitCode = 1;
} finally {
  await exec(engine, ['rm', '--force', name]).catch(() => {});
  await exec(engine, ['volume', 'rm', '--force', volume]).catch(() => {});
}
