/**
 * `npm run bench:outbound`: outbound delivery against a local sink on real Postgres
 * (TEST_DATABASE_URL). Reports, in one run: a bare undici POST loop with HMAC signing; Hookline's
 * signed, persisted and logged deliveries per second; webhook-in to delivery-out latency at a fixed
 * rate of provider webhooks through ingest; and whether delivery keeps pace with ingest held at half
 * its measured maximum.
 *
 * Options (defaults are the figures; smoke-run with small ones):
 *   --events 20000 --concurrency 64 --rate 500 --seconds 60
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { and, count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { deliveries } from '../../drizzle/schema.js';
import { buildApp } from '../../server/app.js';
import { type Database, openDatabase } from '../../server/db/database.js';
import { publishToOutboxes } from '../../server/db/outboxes.js';
import { transaction } from '../../server/db/transaction.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/ingest/plugin.js';
import { type OutboundEvent, outboundDeliveries } from '../../server/outbound/enqueue.js';
import { messageReceived } from '../../tools/fake-unipile/payloads.js';
import { apiAuth, TEST_SECRETS, testConfig } from '../support/app.js';
import { testEnv } from '../support/env.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);
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
    webhookId: `msg_${randomUUID().replaceAll('-', '')}`,
    timestamp: new Date().toISOString(),
    data: { accountId: 'acc_bench', chatId: 'chat_1', messageId: randomUUID(), text: 'benchmark message' },
  }));
}

/** Every event enqueued so far in this run. */
let enqueuedTotal = 0;

/** Commits a batch like ingest does; notes the commit time per webhook-id. */
async function enqueue(app: FastifyInstance, batch: OutboundEvent[], committed: Map<string, number>) {
  const { deliveries: n } = await transaction(app.database.db, (tx) =>
    publishToOutboxes(tx, { outbound: outboundDeliveries(batch) }),
  );
  enqueuedTotal += n;
  const at = performance.now();
  for (const event of batch) committed.set(event.webhookId, at);
  app.changes.emit({ deliveries: n });
}

const BENCH_ACCOUNT = { id: 'acc_bench', type: 'WHATSAPP' as const, userId: 'bench-self@s.whatsapp.net' };

/**
 * Provider webhooks through the real ingest route (one delivery each, to the one endpoint that
 * takes everything), all at once so ingest group-commits them; notes when each went in.
 */
async function ingest(app: FastifyInstance, n: number, started: Map<string, number>) {
  await Promise.all(
    Array.from({ length: n }, async () => {
      const messageId = `msg_${randomUUID()}`;
      started.set(messageId, performance.now());
      const response = await app.inject({
        method: 'POST',
        url: UNIPILE_WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'unipile-auth': TEST_SECRETS.inboundSecret },
        payload: JSON.stringify(messageReceived({ account: BENCH_ACCOUNT, chatId: 'chat_bench', messageId })),
      });
      if (response.statusCode !== 200)
        throw new Error(`ingest answered ${response.statusCode}: ${response.body}`);
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

async function main() {
  if (!testEnv.databaseUrl)
    throw new Error('Set TEST_DATABASE_URL to a Postgres server (postgres://postgres@127.0.0.1:5432/test)');
  const created = await createPostgresTestDatabase(
    testEnv.databaseUrl,
    await ensurePostgresTemplate(testEnv.databaseUrl),
  );
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 20 });
  const sink = await startSink();
  const env = {
    OUTBOUND_CONCURRENCY: String(CONCURRENCY),
    OUTBOUND_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
    OUTBOUND_POLL_INTERVAL_MS: '200',
  };
  const producer = await buildApp({
    config: testConfig({ ...env, OUTBOUND_WORKER_ENABLED: 'false' }),
    secrets: TEST_SECRETS,
    database,
  });
  await producer.ready();
  try {
    const endpoint = await producer.inject({
      method: 'POST',
      url: '/api/endpoints',
      headers: apiAuth,
      payload: { url: sink.url },
    });
    const endpointId = endpoint.json().id as string;
    const committed = new Map<string, number>();

    const bare = await bareLoop(sink.url);
    sink.arrivals.clear();

    // Throughput: a backlog of EVENTS, then a worker drains it.
    for (let done = 0; done < EVENTS; done += 500)
      await enqueue(producer, events(Math.min(500, EVENTS - done)), committed);
    const worker = await buildApp({ config: testConfig(env), secrets: TEST_SECRETS, database });
    const started = performance.now();
    await worker.ready();
    while ((await succeeded(database, endpointId)) < EVENTS) await sleep(50);
    const throughput = EVENTS / ((performance.now() - started) / 1000);

    // Latency at RATE webhooks/s through ingest: a group every 20 ms, webhook in to arrival.
    const webhookIn = new Map<string, number>();
    sink.byMessage.clear();
    const latencySeconds = Math.min(SECONDS, 10);
    const perTick = Math.max(1, Math.round(RATE / 50));
    for (let tick = 0; tick < latencySeconds * 50; tick++) {
      const tickStart = performance.now();
      void ingest(worker, perTick, webhookIn);
      await sleep(Math.max(0, 20 - (performance.now() - tickStart)));
    }
    while (![...webhookIn.keys()].every((id) => sink.byMessage.has(id))) await sleep(20);
    const latencies = [...webhookIn]
      .map(([id, at]) => (sink.byMessage.get(id) ?? Number.NaN) - at)
      .sort((a, b) => a - b);

    // Keeping pace: the ingest maximum (50 webhooks in flight, as the ingest benchmark), then half of it.
    const probeEnd = performance.now() + 3000;
    let probed = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (performance.now() < probeEnd) {
          await ingest(producer, 1, new Map());
          probed++;
        }
      }),
    );
    const maxIngest = probed / 3;
    const halfRate = maxIngest / 2;
    let enqueued = 0;
    let maxBacklog = 0;
    const paceStart = performance.now();
    while (performance.now() - paceStart < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - paceStart) / 1000) * halfRate) - enqueued;
      if (due > 0) {
        await ingest(worker, due, new Map());
        enqueued += due;
      }
      maxBacklog = Math.max(maxBacklog, enqueuedTotal - (await succeeded(database, endpointId)));
      await sleep(20);
    }
    const stopped = performance.now();
    while ((await succeeded(database, endpointId)) < enqueuedTotal) await sleep(50);
    const drainMs = performance.now() - stopped;
    await worker.close();

    const rows = [
      ['bare undici POST loop with HMAC', `${bare.toFixed(0)} req/s`],
      [
        'Hookline signed+persisted+logged',
        `${throughput.toFixed(0)} deliveries/s (${((throughput / bare) * 100).toFixed(1)}% of bare)`,
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
  } finally {
    await producer.close();
    await sink.close();
    await database.close();
    await created.drop();
  }
}

await main();
