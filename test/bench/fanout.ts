import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type Socket as SocketIoSocket, io as socketIoClient } from 'socket.io-client';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { messageReceived } from '../../tools/fake-unipile/payloads.js';
import { gatewayNodeFlags } from '../support/gateway-flags.js';
import { BENCH_SECRETS, type BenchCommand, type BenchReply } from './fanout-protocol.js';
import { processCpuMs } from './support/cpu.js';
import { gatewayBreakdown, latencyTimeline } from './support/fanout-breakdown.js';
import { FILES_BESIDE_SOCKETS, raiseFileLimit } from './support/file-limit.js';
import { percentile } from './support/percentile.js';
import { writeBenchResult } from './support/result.js';

/**
 * `npm run bench:fanout -- [--connections 10000] [--accounts 1000] [--rate 1000] [--seconds 10]
 * [--broadcasts 5] [--servers hookline,ws,socketio] [--database-url postgres://…/postgres] [--breakdown]
 * [--heap-snapshots DIR] [--source-addresses N]`
 *
 * For each server, in its own process: RSS and V8 heap per idle connection (after garbage
 * collection), the time for one message to reach
 * every connection (all subscribe to one shared account), and send-to-socket latency at `rate`
 * messages/s spread over `accounts` accounts. Each Hookline message is a provider webhook POSTed
 * to its ingest route over HTTP (stored on real Postgres, then fanned out), so its latency is
 * webhook-to-socket; bare ws and socket.io are told over IPC to send. It raises its open-file
 * limit to what `--connections` needs (support/file-limit.ts), and exits saying so if it cannot.
 */
const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    accounts: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    broadcasts: { type: 'string', default: '5' },
    servers: { type: 'string', default: 'hookline,ws,socketio' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    /** Also print latency per 250 ms of the measured run, and Hookline's own histograms. */
    breakdown: { type: 'boolean', default: false },
    /** Write each server's heap snapshot before and after connecting, as `<server>-<n>.heapsnapshot`. */
    'heap-snapshots': { type: 'string' },
    /** Loopback source addresses the clients spread over (127.0.0.1 to .N); default one per 20,000. */
    'source-addresses': { type: 'string' },
    /** Also write the result as JSON to this file (support/result.ts). */
    json: { type: 'string' },
  },
});
const CONNECTIONS = Number(args.connections);
const ACCOUNTS = Number(args.accounts);
const RATE = Number(args.rate);
/** Seconds at RATE before latency is measured. */
const WARMUP_SECONDS = 3;
const SECONDS = Number(args.seconds);
const BROADCASTS = Number(args.broadcasts);
const SHARED = 'acc-all';
/**
 * Linux gives one source address about 28,000 ephemeral ports towards one server address and
 * port (`net.ipv4.ip_local_port_range`), so beyond 20,000 the clients bind to 127.0.0.2, .3, …
 */
const SOURCE_ADDRESSES = Number(args['source-addresses'] ?? Math.ceil(CONNECTIONS / 20_000));

type Kind = 'hookline' | 'ws' | 'socketio';

interface Server {
  child: ChildProcess;
  port: number;
  /** Sends one message for `accountId`; `sentAt` travels in its text. */
  publish(accountId: string, sentAt: number): void;
  /** RSS and V8 heap in use after garbage collection; writes a heap snapshot to `snapshot` if given. */
  memory(snapshot?: string): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

async function startServer(kind: Kind, databaseUrl: string): Promise<Server> {
  const script = fileURLToPath(new URL('./fanout-server.ts', import.meta.url));
  const child = fork(script, [kind, databaseUrl], {
    // BENCH_NODE_ARGS reaches the servers only, e.g. BENCH_NODE_ARGS=--trace-gc to see their pauses.
    // Hookline also gets the options `npm start` gives it.
    execArgv: [
      '--import',
      'tsx',
      '--expose-gc',
      ...(kind === 'hookline' ? gatewayNodeFlags() : []),
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
  });
  const replies: ((reply: BenchReply) => void)[] = [];
  child.on('message', (reply: BenchReply) => {
    if (reply.type === 'error') process.stderr.write(`${kind}: ${reply.message}\n`);
    else replies.shift()?.(reply);
  });
  const next = () => new Promise<BenchReply>((resolve) => replies.push(resolve));
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`${kind} did not start`);
  const webhooks = kind === 'hookline' ? webhookSender(ready.port) : undefined;
  return {
    child,
    port: ready.port,
    publish: (accountId, sentAt) =>
      webhooks
        ? webhooks.post(accountId, sentAt)
        : child.send({ type: 'publish', accountId, sentAt } satisfies BenchCommand),
    stop: async () => {
      await webhooks?.close();
      child.kill();
    },
    memory: async (snapshot) => {
      const reply = next();
      child.send({ type: 'memory', snapshot } satisfies BenchCommand);
      const answer = await reply;
      return answer.type === 'memory' ? answer : { rss: 0, heapUsed: 0 };
    },
  };
}

/** Posts provider webhooks to a Hookline server, over keep-alive connections as a provider would. */
function webhookSender(port: number) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64, pipelining: 1 });
  return {
    post(accountId: string, sentAt: number): void {
      const body = JSON.stringify(
        messageReceived({
          account: { id: accountId, type: 'WHATSAPP', userId: 'bench-self@s.whatsapp.net' },
          chatId: `chat-${accountId}`,
          messageId: `msg-${sentAt}-${Math.random().toString(36).slice(2)}`,
          text: String(sentAt),
        }),
      );
      pool
        .request({
          method: 'POST',
          path: UNIPILE_WEBHOOK_PATH,
          headers: { 'content-type': 'application/json', 'unipile-auth': BENCH_SECRETS.inboundSecret },
          body,
        })
        .then(async (response) => {
          const text = await response.body.text();
          if (response.statusCode !== 200) throw new Error(`ingest answered ${response.statusCode}: ${text}`);
        })
        .catch((error: unknown) => process.stderr.write(`hookline: ${String(error)}\n`));
    },
    close: () => pool.close(),
  };
}

interface Client {
  close(): void;
}

/** Receipts: shared-account messages by send time, and latencies of per-account messages. */
const broadcastReceipts = new Map<number, { count: number; last: number }>();
let latencies: number[] = [];
/** When each of `latencies` arrived, for --breakdown. */
let arrivals: number[] = [];

const ACCOUNT_ID = /"accountId":"([^"]*)"/;
const TEXT = /"text":"([^"]*)"/;

/**
 * The two fields a receipt needs, read without parsing the whole frame: this process takes
 * 10,000 frames a second, and the garbage of parsing each one costs it collections whose pauses
 * would be counted as the server's latency. (socket.io's client parses frames itself.)
 */
function receiptOf(frame: string): { data?: { accountId?: string; text?: string } } {
  return { data: { accountId: ACCOUNT_ID.exec(frame)?.[1], text: TEXT.exec(frame)?.[1] } };
}

function onEnvelope(envelope: { type?: string; data?: { accountId?: string; text?: string } }): void {
  if (envelope.type === 'hello' || !envelope.data?.text) return;
  const now = performance.timeOrigin + performance.now();
  const sentAt = Number(envelope.data.text);
  if (envelope.data.accountId === SHARED) {
    const receipt = broadcastReceipts.get(sentAt) ?? { count: 0, last: 0 };
    receipt.count++;
    receipt.last = now;
    broadcastReceipts.set(sentAt, receipt);
  } else {
    latencies.push(now - sentAt);
    arrivals.push(now);
  }
}

function sourceAddress(index: number): string {
  return `127.0.0.${1 + (index % SOURCE_ADDRESSES)}`;
}

async function connect(kind: Kind, port: number, index: number): Promise<Client> {
  const account = `acc-${index % ACCOUNTS}`;
  if (kind === 'socketio') {
    const socket: SocketIoSocket = socketIoClient(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      // engine.io passes it on to ws, though its types leave it out.
      transportOptions: { websocket: { localAddress: sourceAddress(index) } },
      query: { accounts: `${SHARED},${account}` },
    });
    socket.on('message', onEnvelope);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { close: () => socket.close() };
  }
  const url =
    kind === 'hookline'
      ? `ws://127.0.0.1:${port}/ws/messages?token=${(await tokenFor(account)).token}`
      : `ws://127.0.0.1:${port}/?accounts=${SHARED},${account}`;
  const socket = new WebSocket(url, { localAddress: sourceAddress(index) });
  socket.on('message', (data) => onEnvelope(receiptOf(data.toString())));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { close: () => socket.terminate() };
}

const tokens = new Map<string, ReturnType<typeof mintRealtimeToken>>();
function tokenFor(account: string) {
  let token = tokens.get(account);
  if (!token) {
    token = mintRealtimeToken(BENCH_SECRETS.realtimeJwtSecret, [SHARED, account], 3600);
    tokens.set(account, token);
  }
  return token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/**
 * A full collection of this process's heap (the 10,000 clients') between warm-up and
 * measurement, so that its own mark-compact, which stalls every client for 50 to 150 ms, does not
 * land inside the measured window: that is the harness's pause, not the server's. The npm script
 * also runs this process with --heap-growing-percent=400, so that its old generation (about 4 MB
 * a second of per-socket state that outlives a scavenge) does not reach the next mark-compact
 * within the run: with `--breakdown` and --trace-gc, each of those collections lined up with a
 * window whose p99 jumped to 100 to 125 ms while the gateway's heap stayed flat. The servers' heaps
 * are left alone. Needs --expose-gc (the npm script passes it).
 */
function collectClientGarbage(): void {
  globalThis.gc?.();
}

async function measure(kind: Kind, databaseUrl: string) {
  const server = await startServer(kind, databaseUrl);
  await sleep(500);
  const snapshot = (name: string) =>
    args['heap-snapshots'] ? join(args['heap-snapshots'], `${kind}-${name}.heapsnapshot`) : undefined;
  const before = await server.memory(snapshot('0'));
  const clients: Client[] = [];
  for (let i = 0; i < CONNECTIONS; i += 200) {
    const batch = Array.from({ length: Math.min(200, CONNECTIONS - i) }, (_, j) =>
      connect(kind, server.port, i + j),
    );
    clients.push(...(await Promise.all(batch)));
  }
  await sleep(1000);
  const after = await server.memory(snapshot(String(CONNECTIONS)));

  const broadcastMs: number[] = [];
  for (let round = 0; round < BROADCASTS; round++) {
    const sentAt = performance.timeOrigin + performance.now();
    server.publish(SHARED, sentAt);
    const complete = await waitUntil(
      () => (broadcastReceipts.get(sentAt)?.count ?? 0) >= CONNECTIONS,
      30_000,
    );
    const receipt = broadcastReceipts.get(sentAt);
    broadcastMs.push(complete && receipt ? receipt.last - sentAt : Number.NaN);
    await sleep(200);
  }

  // About 100 ticks a second, each sending what the elapsed time is owed, so a late tick (this
  // process is busy too) sends more instead of lowering the rate. The first seconds warm every
  // server up (Hookline's ingest path has not run yet) and are not measured.
  const perAccount = CONNECTIONS / ACCOUNTS;
  const atRate = async (seconds: number): Promise<number> => {
    latencies = [];
    arrivals = [];
    let sent = 0;
    const started = performance.now();
    const ticker = setInterval(() => {
      const owed = Math.floor(((performance.now() - started) * RATE) / 1000);
      for (; sent < owed; sent++) {
        const accountId = `acc-${Math.floor(Math.random() * ACCOUNTS)}`;
        server.publish(accountId, performance.timeOrigin + performance.now());
      }
    }, 10);
    await sleep(seconds * 1000);
    clearInterval(ticker);
    await waitUntil(() => latencies.length >= Math.floor(sent * perAccount), 10_000);
    return sent;
  };
  await atRate(WARMUP_SECONDS);
  collectClientGarbage();
  const cpuBefore = processCpuMs(server.child.pid ?? 0);
  const sent = await atRate(SECONDS);
  const serverCpuMs = processCpuMs(server.child.pid ?? 0) - cpuBefore;

  const sorted = [...latencies].sort((a, b) => a - b);

  if (args.breakdown) {
    console.log(`${kind}: latency by arrival time in the measured run`);
    console.log(
      latencyTimeline(latencies.map((latencyMs, index) => ({ at: arrivals[index] ?? 0, latencyMs }))).join(
        '\n',
      ),
    );
    if (kind === 'hookline') {
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      console.log(
        `${kind}: the gateway's histograms (warm-up included)\n${gatewayBreakdown(metrics).join('\n')}`,
      );
    }
  }
  for (const client of clients) client.close();
  await server.stop();
  broadcastMs.sort((a, b) => a - b);
  return {
    kind,
    connections: clients.length,
    bytesPerIdleConnection: Math.round((after.rss - before.rss) / CONNECTIONS),
    broadcastMedianMs: percentile(broadcastMs, 0.5),
    messagesSent: sent,
    received: `${latencies.length}/${Math.floor(sent * perAccount)}`,
    latencyP50Ms: percentile(sorted, 0.5),
    latencyP99Ms: percentile(sorted, 0.99),
    heapBytesPerIdleConnection: Math.round((after.heapUsed - before.heapUsed) / CONNECTIONS),
    rssAfterConnectMb: Math.round(after.rss / 2 ** 20),
    serverCpuMsPerMessage: Number((serverCpuMs / Math.max(1, sent)).toFixed(3)),
  };
}

async function main(): Promise<void> {
  raiseFileLimit(CONNECTIONS + FILES_BESIDE_SOCKETS);
  const admin = new pg.Client({ connectionString: args['database-url'] });
  await admin.connect();
  const name = `hookline_bench_${process.pid}`;
  await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  const url = new URL(args['database-url']);
  url.pathname = `/${name}`;
  try {
    const results = [];
    for (const kind of args.servers.split(',') as Kind[]) {
      results.push(await measure(kind, url.toString()));
      broadcastReceipts.clear();
    }
    console.log(`connections=${CONNECTIONS} accounts=${ACCOUNTS} rate=${RATE}/s seconds=${SECONDS}`);
    const shown = results.map((result) => ({
      ...result,
      broadcastMedianMs: result.broadcastMedianMs.toFixed(1),
      latencyP50Ms: result.latencyP50Ms.toFixed(2),
      latencyP99Ms: result.latencyP99Ms.toFixed(2),
    }));
    console.table(shown);
    const columns = Object.keys(shown[0] ?? {});
    writeBenchResult(
      {
        bench: 'fanout',
        command: `npm run bench:fanout -- --connections ${CONNECTIONS} --accounts ${ACCOUNTS} --rate ${RATE} --seconds ${SECONDS} --broadcasts ${BROADCASTS} --servers ${args.servers}`,
        markdown: [
          `| ${columns.join(' | ')} |`,
          `| ${columns.map(() => '---').join(' | ')} |`,
          ...shown.map(
            (row) => `| ${columns.map((column) => String(row[column as keyof typeof row])).join(' | ')} |`,
          ),
        ],
        figures: Object.fromEntries(
          results.flatMap((result) => [
            [`${result.kind} bytes per idle connection`, result.bytesPerIdleConnection],
            [`${result.kind} heap bytes per idle connection`, result.heapBytesPerIdleConnection],
            [`${result.kind} broadcast median ms`, Number(result.broadcastMedianMs.toFixed(1))],
            [`${result.kind} latency p99 ms`, Number(result.latencyP99Ms.toFixed(2))],
          ]),
        ),
      },
      args.json,
    );
  } finally {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
