/**
 * `npm run bench:outbound`: outbound delivery against a local sink on real Postgres
 * (BENCH_DATABASE_URL). Reports, in one run: a bare undici POST loop with HMAC signing; Hookline's
 * signed, persisted and logged deliveries per second, under the default `standard-webhooks`
 * scheme and then under `hmac-sha256-hex` (the same backlog to a second endpoint); webhook-in to delivery-out latency at a fixed
 * rate of provider webhooks through ingest; and whether delivery keeps pace with ingest held at half
 * its measured maximum.
 *
 * The gateway runs in a process of its own, as deployed (`test/bench/ingest-target.ts hookline`);
 * this process is the provider (webhooks over HTTP) and the subscriber (the sink).
 *
 * Options (defaults are the figures; smoke-run with small ones):
 *   --events 20000 --concurrency 64 --rate 500 --seconds 60
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { and, count, eq } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { deliveries } from '../../drizzle/schema.js';
import { type Database, openDatabase } from '../../server/db/database.js';
import { transaction } from '../../server/db/transaction.js';
import { newWebhookId, type OutboundEvent, outboundDeliveries } from '../../server/events/index.js';
import { publishToOutboxes } from '../../server/outbound/index.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { messageReceived } from '../../tools/fake-unipile/payloads.js';
import { apiAuth, TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { startChildServer } from './support/child-server.js';
import { BENCH_DATABASE_URL } from './support/database-url.js';
import { writeBenchResult } from './support/result.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
    /** Also write the result as JSON to this file (support/result.ts). */
    json: { type: 'string' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);
/** Seconds at RATE before the latency is measured. */
const WARMUP_SECONDS = 3;
const SECONDS = Number(values.seconds);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

/** A sink that answers 200 at once and notes when each webhook-id, and each message id, arrived. */
async function startSink() {
  const arrivals = new Map<string, number>();
  const byMessage = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      arrivals.set(String(req.headers['webhook-id']), at);
      const messageId = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: { messageId?: string } })
        .data?.messageId;
      if (messageId) byMessage.set(messageId, at);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    arrivals,
    byMessage,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function bareLoop(url: string): Promise<number> {
  const agent = new Agent({ connections: CONCURRENCY });
  const key = randomBytes(32);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < EVENTS) {
        const body = JSON.stringify({
          type: 'message.received',
          timestamp: new Date().toISOString(),
          data: { n: next },
        });
        const id = `msg_${randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
        const response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          body,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': `v1,${signature}`,
          },
        });
        await response.body.dump();
      }
    }),
  );
  await agent.close();
  return EVENTS / ((performance.now() - started) / 1000);
}

function events(n: number): OutboundEvent[] {
  return Array.from({ length: n }, () => ({
    type: 'message.received',
    accountId: 'acc_bench',
    webhookId: newWebhookId(),
    timestamp: new Date().toISOString(),
    // Delivery never reads `data`: a short stand-in for a message keeps the payload realistic in size.
    data: { accountId: 'acc_bench', chatId: 'chat_1', messageId: randomUUID(), text: 'benchmark message' },
  })) as OutboundEvent[];
}

/** Every event enqueued so far in this run. */
let enqueuedTotal = 0;

/** Commits a backlog batch the way ingest does (outboxes inside a transaction). */
async function enqueue(database: Database, batch: OutboundEvent[]) {
  const { deliveries: n } = await transaction(database.db, (tx) =>
    publishToOutboxes(tx, { outbound: outboundDeliveries(batch) }),
  );
  enqueuedTotal += n;
}

const BENCH_ACCOUNT = { id: 'acc_bench', type: 'WHATSAPP' as const, userId: 'bench-self@s.whatsapp.net' };
const provider = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
const template = JSON.stringify(
  messageReceived({ account: BENCH_ACCOUNT, chatId: 'chat_bench', messageId: '__MESSAGE__' }),
);

/**
 * Provider webhooks over HTTP to the gateway's ingest route, all at once so ingest group-commits
 * them (one delivery each, to the one endpoint that takes everything); notes when each went in.
 */
async function ingest(gatewayUrl: string, n: number, started: Map<string, number>) {
  await Promise.all(
    Array.from({ length: n }, async () => {
      const messageId = `msg_${randomUUID()}`;
      started.set(messageId, performance.now());
      const response = await request(`${gatewayUrl}${UNIPILE_WEBHOOK_PATH}`, {
        method: 'POST',
        dispatcher: provider,
        headers: { 'content-type': 'application/json', 'unipile-auth': TEST_SECRETS.inboundSecret },
        body: template.replace('__MESSAGE__', messageId),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`ingest answered ${response.statusCode}: ${text}`);
    }),
  );
  enqueuedTotal += n;
}

async function succeeded(database: Database, endpointId: string): Promise<number> {
  const [row] = await database.db
    .select({ n: count() })
    .from(deliveries)
    .where(and(eq(deliveries.status, 'succeeded'), eq(deliveries.endpointId, endpointId)));
  return row?.n ?? 0;
}

async function createEndpoint(
  gatewayUrl: string,
  sinkUrl: string,
  settings: Record<string, unknown> = {},
): Promise<string> {
  const response = await request(`${gatewayUrl}/api/endpoints`, {
    method: 'POST',
    headers: { ...apiAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ url: sinkUrl, ...settings }),
  });
  const body = (await response.body.json()) as { id?: string };
  if (response.statusCode !== 201 || !body.id)
    throw new Error(`endpoint not created: ${JSON.stringify(body)}`);
  return body.id;
}

/** A management call that must succeed. */
async function manage(gatewayUrl: string, method: 'PATCH' | 'DELETE', path: string, body?: unknown) {
  const response = await request(`${gatewayUrl}${path}`, {
    method,
    headers: { ...apiAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
}

async function main() {
  const created = await createPostgresTestDatabase(
    BENCH_DATABASE_URL,
    await ensurePostgresTemplate(BENCH_DATABASE_URL),
  );
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 4 });
  const sink = await startSink();
  const gateway = await startChildServer('test/bench/ingest-target.ts', ['hookline', created.url], {
    ALLOW_PRIVATE_ENDPOINTS: 'true',
    OUTBOUND_CONCURRENCY: String(CONCURRENCY),
    OUTBOUND_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
  });
  try {
    const bare = await bareLoop(sink.url);
    sink.arrivals.clear();

    // Throughput: an endpoint is created with a backlog of EVENTS behind it; the gateway's worker
    // drains it. Timed from the first arrival to the last delivery recorded as succeeded, so
    // neither the enqueueing nor the worker's wake-up is counted.
    const drain = async (id: string) => {
      sink.arrivals.clear();
      for (let done = 0; done < EVENTS; done += 500)
        await enqueue(database, events(Math.min(500, EVENTS - done)));
      while (sink.arrivals.size === 0) await sleep(1);
      const started = Math.min(...sink.arrivals.values());
      while ((await succeeded(database, id)) < EVENTS) await sleep(20);
      return EVENTS / ((performance.now() - started) / 1000);
    };
    const endpointId = await createEndpoint(gateway.url, sink.url);
    const throughput = await drain(endpointId);
    // The same backlog under hmac-sha256-hex, the first endpoint disabled meanwhile; the second is
    // deleted after, so the phases below run as they would without it.
    await manage(gateway.url, 'PATCH', `/api/endpoints/${endpointId}`, { enabled: false });
    const hmacId = await createEndpoint(gateway.url, sink.url, { signatureScheme: 'hmac-sha256-hex' });
    const hmacThroughput = await drain(hmacId);
    await manage(gateway.url, 'DELETE', `/api/endpoints/${hmacId}`);
    await manage(gateway.url, 'PATCH', `/api/endpoints/${endpointId}`, { enabled: true });
    enqueuedTotal -= EVENTS;

    // Latency at RATE webhooks/s through ingest: a group every 20 ms, webhook in to arrival. The
    // first seconds only warm up the ingest path (its code has not run yet in this process) and
    // are not measured, as bench:ingest's warm-up.
    const atRate = async (seconds: number, started: Map<string, number>) => {
      const perTick = Math.max(1, Math.round(RATE / 50));
      for (let tick = 0; tick < seconds * 50; tick++) {
        const tickStart = performance.now();
        void ingest(gateway.url, perTick, started);
        await sleep(Math.max(0, 20 - (performance.now() - tickStart)));
      }
      while (![...started.keys()].every((id) => sink.byMessage.has(id))) await sleep(20);
    };
    await atRate(WARMUP_SECONDS, new Map());
    const webhookIn = new Map<string, number>();
    sink.byMessage.clear();
    const latencySeconds = Math.min(SECONDS, 10);
    await atRate(latencySeconds, webhookIn);
    const latencies = [...webhookIn]
      .map(([id, at]) => (sink.byMessage.get(id) ?? Number.NaN) - at)
      .sort((a, b) => a - b);

    // Keeping pace: the ingest maximum (50 webhooks in flight, as the ingest benchmark; the worker
    // delivers meanwhile, as in production), then ingest held at half of it.
    const probeEnd = performance.now() + 3000;
    let probed = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (performance.now() < probeEnd) {
          await ingest(gateway.url, 1, new Map());
          probed++;
        }
      }),
    );
    const maxIngest = probed / 3;
    while ((await succeeded(database, endpointId)) < enqueuedTotal) await sleep(50);
    const halfRate = maxIngest / 2;
    let enqueued = 0;
    let maxBacklog = 0;
    const paceStart = performance.now();
    while (performance.now() - paceStart < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - paceStart) / 1000) * halfRate) - enqueued;
      if (due > 0) {
        await ingest(gateway.url, due, new Map());
        enqueued += due;
      }
      maxBacklog = Math.max(maxBacklog, enqueuedTotal - (await succeeded(database, endpointId)));
      await sleep(20);
    }
    const stopped = performance.now();
    while ((await succeeded(database, endpointId)) < enqueuedTotal) await sleep(50);
    const drainMs = performance.now() - stopped;

    const rows = [
      ['bare undici POST loop with HMAC', `${bare.toFixed(0)} req/s`],
      [
        'Hookline signed+persisted+logged',
        `${throughput.toFixed(0)} deliveries/s (${((throughput / bare) * 100).toFixed(1)}% of bare)`,
      ],
      [
        '  the same, hmac-sha256-hex scheme',
        `${hmacThroughput.toFixed(0)} deliveries/s (${((hmacThroughput / bare) * 100).toFixed(1)}% of bare)`,
      ],
      [
        `webhook-in to delivery-out at ${RATE} webhooks/s (${latencySeconds}s)`,
        `p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
      ],
      ['ingest maximum (50 webhooks in flight)', `${maxIngest.toFixed(0)} webhooks/s`],
      [
        `at half of it for ${SECONDS}s`,
        `max backlog ${maxBacklog}, drained ${drainMs.toFixed(0)} ms after stop`,
      ],
    ];
    console.log(
      `outbound benchmark: events=${EVENTS} concurrency=${CONCURRENCY} rate=${RATE} seconds=${SECONDS}`,
    );
    for (const [name, value] of rows) console.log(`  ${name!.padEnd(44)} ${value}`);
    writeBenchResult(
      {
        bench: 'outbound',
        command: `npm run bench:outbound -- --events ${EVENTS} --concurrency ${CONCURRENCY} --rate ${RATE} --seconds ${SECONDS}`,
        markdown: [
          '| measure | figure |',
          '| --- | --- |',
          ...rows.map(([name, value]) => `| ${name!.trim()} | ${value} |`),
        ],
        figures: {
          'bare req/s': Math.round(bare),
          'deliveries/s': Math.round(throughput),
          'share of bare %': Number(((throughput / bare) * 100).toFixed(1)),
          'latency p99 ms': Number(percentile(latencies, 0.99).toFixed(1)),
          'backlog drained ms': Math.round(drainMs),
        },
      },
      values.json,
    );
  } finally {
    await gateway.stop();
    await provider.close();
    await sink.close();
    await database.close();
    await created.drop();
  }
}

await main();
