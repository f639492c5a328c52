import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { writeHeapSnapshot } from 'node:v8';
import { Server as SocketIoServer } from 'socket.io';
import { type WebSocket, WebSocketServer } from 'ws';
import { buildApp } from '../../server/app.js';
import { parseConfig } from '../../server/config.js';
import { openDatabase } from '../../server/db/database.js';
import { applyMigrations } from '../../server/db/migrate.js';
import { BENCH_SECRETS, type BenchCommand, type BenchReply, benchEnvelopeData } from './fanout-protocol.js';
import { tuningKnobs } from './knobs.js';

/**
 * One server of the fan-out benchmark, in a process of its own so that its RSS is its own:
 * `hookline <databaseUrl>`, `ws` or `socketio`. The parent drives it over IPC: `publish` one
 * event to an account's subscribers (bare servers; Hookline gets provider webhooks over HTTP),
 * report its `memory` after garbage collection.
 */
type Publish = (accountId: string, sentAt: number) => void;

function send(reply: BenchReply): void {
  process.send?.(reply);
}

async function startHookline(databaseUrl: string): Promise<{ port: number; publish?: Publish }> {
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 20 });
  await applyMigrations(database);
  const app = await buildApp({
    config: parseConfig({
      DATA_DIR: tmpdir(),
      LOG_LEVEL: 'silent',
      REALTIME_MAX_CONNECTIONS_PER_TOKEN: '10000',
      // Every benchmark socket comes from 127.0.0.1.
      HTTP_MAX_CONNECTIONS: '100000',
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: '100000',
      ...tuningKnobs(process.env),
    }),
    secrets: BENCH_SECRETS,
    database,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // No publish: the benchmark posts webhooks to this port over HTTP, as a provider does.
  return { port };
}

/** Bare ws: sockets subscribe with `?accounts=a,b`; one JSON string per event, sent to each. */
async function startWs(): Promise<{ port: number; publish: Publish }> {
  const server = createServer();
  const wss = new WebSocketServer({ server, maxPayload: 4096 });
  const byAccount = new Map<string, Set<WebSocket>>();
  let seq = 0;
  wss.on('connection', (socket, request) => {
    const accounts = new URL(request.url ?? '/', 'http://x').searchParams.get('accounts')?.split(',') ?? [];
    for (const account of accounts) {
      const set = byAccount.get(account) ?? new Set();
      set.add(socket);
      byAccount.set(account, set);
    }
    socket.on('close', () => {
      for (const account of accounts) byAccount.get(account)?.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    publish: (accountId, sentAt) => {
      const frame = JSON.stringify({
        type: 'message:new',
        seq: ++seq,
        ts: new Date().toISOString(),
        data: benchEnvelopeData(accountId, sentAt),
      });
      for (const socket of byAccount.get(accountId) ?? []) socket.send(frame);
    },
  };
}

/** socket.io: sockets join one room per account (`?accounts=a,b`); events go to the room. */
async function startSocketIo(): Promise<{ port: number; publish: Publish }> {
  const server = createServer();
  const io = new SocketIoServer(server, { transports: ['websocket'], perMessageDeflate: false });
  let seq = 0;
  io.on('connection', (socket) => {
    const accounts = String(socket.handshake.query.accounts ?? '').split(',');
    for (const account of accounts) void socket.join(account);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    publish: (accountId, sentAt) => {
      io.to(accountId).emit('message', {
        type: 'message:new',
        seq: ++seq,
        ts: new Date().toISOString(),
        data: benchEnvelopeData(accountId, sentAt),
      });
    },
  };
}

/**
 * Full collections until the heap in use stops shrinking (weak references and finalizers can need
 * a second pass), so that what remains is what the server keeps alive. Needs --expose-gc.
 */
function collectGarbage(): number {
  let heapUsed = process.memoryUsage().heapUsed;
  for (let pass = 0; pass < 5; pass++) {
    globalThis.gc?.();
    const after = process.memoryUsage().heapUsed;
    if (after >= heapUsed - 64 * 1024) return after;
    heapUsed = after;
  }
  return heapUsed;
}

async function main(): Promise<void> {
  const [kind, databaseUrl] = process.argv.slice(2);
  const started =
    kind === 'hookline' && databaseUrl
      ? await startHookline(databaseUrl)
      : kind === 'ws'
        ? await startWs()
        : kind === 'socketio'
          ? await startSocketIo()
          : undefined;
  if (!started) throw new Error(`unknown server kind ${kind}`);
  // A normal exit, so that BENCH_NODE_ARGS=--cpu-prof writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.on('message', (command: BenchCommand) => {
    if (command.type === 'memory') {
      const heapUsed = collectGarbage();
      if (command.snapshot) writeHeapSnapshot(command.snapshot);
      send({ type: 'memory', rss: process.memoryUsage().rss, heapUsed });
    } else if (command.type === 'publish' && started.publish) {
      started.publish(command.accountId, command.sentAt);
    }
  });
  send({ type: 'ready', port: started.port });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
