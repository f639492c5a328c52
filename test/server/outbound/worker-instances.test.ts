import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts } from '../../../drizzle/schema.js';
import { type Database, openDatabase } from '../../../server/db/database.js';
import { apiAuth, buildTestApp } from '../../support/app.js';
import {
  describePostgres,
  openTestDatabase,
  type TestDatabase,
  testDatabaseKinds,
} from '../../support/databases.js';
import { createEndpoint, endpointDeliveries, publishEvents } from '../../support/outbound.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { startWebhookSink, type WebhookSink, waitFor } from '../../support/webhook-sink.js';

const FAST = {
  OUTBOUND_RETRY_SCHEDULE: '50ms',
  OUTBOUND_POLL_INTERVAL_MS: '50',
  OUTBOUND_TIMEOUT_MS: '2000',
  OUTBOUND_LEASE_MS: '3000',
};

/** Apps and sinks a test started, closed after it whatever happened. */
function useCleanup() {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  return {
    async app(
      database: Database,
      env: Record<string, string> = {},
      logger?: pino.Logger,
    ): Promise<FastifyInstance> {
      const app = await buildTestApp(database, { env: { ...FAST, ...env }, ...(logger ? { logger } : {}) });
      await app.ready();
      closers.push(() => app.close());
      return app;
    },
    async sink(options: { delayMs?: number } = {}): Promise<WebhookSink> {
      const sink = await startWebhookSink(options);
      closers.push(() => sink.close());
      return sink;
    },
  };
}

describe.each(testDatabaseKinds())('delivery across instances on %s', (kind) => {
  let db: TestDatabase;
  const use = useCleanup();
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('re-sends with the same webhook-id after the lease when a worker dies mid-request', async () => {
    const sink = await use.sink();
    sink.answer('hang');
    const first = await use.app(db.database);
    const { id, secret } = await createEndpoint(first, { url: sink.url });
    const [event] = await publishEvents(first, [{}]);
    await waitFor(() => sink.received.length === 1, 10_000, 'the first request');
    await first.close();

    const second = await use.app(db.database);
    await waitFor(() => sink.received.length === 2, 10_000, 'the re-send after the lease');
    const [before, after] = sink.received;
    expect(after!.headers['webhook-id']).toBe(event!.webhookId);
    expect(before!.headers['webhook-id']).toBe(event!.webhookId);
    expect(new Webhook(secret).verify(after!.body, after!.headers as Record<string, string>)).toMatchObject({
      type: 'message.received',
    });
    const [delivery] = await waitFor(async () => {
      const rows = await endpointDeliveries(second, id, 'succeeded');
      return rows.length ? rows : undefined;
    });
    expect(delivery!.attempts).toBe(2);
  });

  it('refuses private addresses at send time, after DNS resolution, when they are not allowed', async () => {
    const sink = await use.sink();
    const port = new URL(sink.url).port;
    const creator = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const endpoints = [];
    for (const url of [
      `http://localhost:${port}/hook`,
      `http://127.0.0.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
    ]) {
      endpoints.push(await createEndpoint(creator, { url, maxAttempts: 1 }));
    }
    await use.app(db.database, { ALLOW_PRIVATE_ENDPOINTS: 'false' });
    await publishEvents(creator, [{}]);
    for (const endpoint of endpoints) {
      const [dead] = await waitFor(async () => {
        const rows = await endpointDeliveries(creator, endpoint.id, 'dead');
        return rows.length ? rows : undefined;
      });
      expect(dead!.lastStatusCode).toBeNull();
      expect(dead!.lastError).toMatch(/private or reserved/);
    }
    expect(sink.received).toHaveLength(0);
  });

  it('keeps a slow endpoint to its own slots: a fast endpoint is served meanwhile', async () => {
    const slow = await use.sink();
    slow.fallback('hang');
    const fast = await use.sink();
    const app = await use.app(db.database, {
      OUTBOUND_CONCURRENCY: '4',
      OUTBOUND_ENDPOINT_CONCURRENCY: '2',
      OUTBOUND_TIMEOUT_MS: '20000',
      OUTBOUND_LEASE_MS: '30000',
    });
    await createEndpoint(app, { url: slow.url, eventTypes: ['chat.read'] });
    const quick = await createEndpoint(app, { url: fast.url, eventTypes: ['message.received'] });
    await publishEvents(
      app,
      Array.from({ length: 10 }, () => ({ type: 'chat.read' })),
    );
    await waitFor(() => slow.received.length === 2, 10_000, 'the slow endpoint to fill its slots');
    await publishEvents(
      app,
      Array.from({ length: 5 }, () => ({})),
    );
    await waitFor(
      async () => (await endpointDeliveries(app, quick.id, 'succeeded')).length === 5,
      10_000,
      'the fast endpoint',
    );
    expect(slow.received).toHaveLength(2);
  });

  it('never starts more than rateLimitPerSecond attempts to an endpoint within one second', async () => {
    const sink = await use.sink();
    const app = await use.app(db.database);
    const { id } = await createEndpoint(app, { url: sink.url, rateLimitPerSecond: 2 });
    await publishEvents(
      app,
      Array.from({ length: 6 }, () => ({})),
    );
    await waitFor(
      async () => (await endpointDeliveries(app, id, 'succeeded')).length === 6,
      20_000,
      'six deliveries',
    );
    const started = await db.database.db
      .select({ at: deliveryAttempts.attemptedAt })
      .from(deliveryAttempts)
      .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
      .where(eq(deliveries.endpointId, id))
      .orderBy(asc(deliveryAttempts.attemptedAt));
    expect(started.length).toBeGreaterThanOrEqual(6);
    // Any three consecutive starts span at least the one-second window (1 ms of clock rounding).
    for (let index = 2; index < started.length; index++) {
      expect(started[index]!.at.getTime() - started[index - 2]!.at.getTime()).toBeGreaterThanOrEqual(999);
    }
  });

  it('disables an endpoint that failed for OUTBOUND_DISABLE_AFTER_MS, logging endpoint.disabled', async () => {
    const sink = await use.sink();
    sink.fallback({ status: 500 });
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const app = await use.app(
      db.database,
      { OUTBOUND_DISABLE_AFTER_MS: '1000', OUTBOUND_MAX_ATTEMPTS: '100' },
      logger,
    );
    const { id } = await createEndpoint(app, { url: sink.url });
    await publishEvents(app, [{}]);
    const endpoint = await waitFor(async () => {
      const got = (await app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth })).json();
      return got.enabled === false ? got : undefined;
    });
    expect(endpoint.disabledReason).toContain('OUTBOUND_DISABLE_AFTER_MS');
    expect(endpoint.failingSince).not.toBeNull();
    const event = lines
      .map((line) => JSON.parse(line))
      .find((line) => line.event === 'endpoint.disabled' && line.endpointId === id);
    expect(event).toMatchObject({ level: 40, reason: endpoint.disabledReason });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/hookline_outbound_endpoints_disabled_total [1-9]/);
    expect(metrics).toMatch(/hookline_outbound_attempts_total\{outcome="retry"\} \d+/);
    expect(metrics).toMatch(/hookline_outbound_backlog \d+/);
  });

  it('settles quietly when an endpoint is deleted while its delivery is in flight', async () => {
    const sink = await use.sink();
    sink.fallback('hang');
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const app = await use.app(db.database, {}, logger);
    const { id } = await createEndpoint(app, { url: sink.url });
    await publishEvents(app, [{}]);
    await waitFor(() => sink.received.length === 1, 10_000, 'the request');
    const deleted = await app.inject({ method: 'DELETE', url: `/api/endpoints/${id}`, headers: apiAuth });
    expect(deleted.statusCode).toBe(204);
    await waitFor(async () => {
      const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json();
      return ready.checks.outbound.state === 'running, 0 in flight';
    });
    expect(lines.filter((line) => line.includes('could not be recorded'))).toEqual([]);
  });

  it('never logs an endpoint secret, at trace level, through create, rotate, test and deliveries', async () => {
    const sink = await use.sink();
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const app = await use.app(db.database, {}, logger);
    sink.answer({ status: 500 });
    const { id, secret } = await createEndpoint(app, { url: sink.url });
    const rotated = await app.inject({
      method: 'POST',
      url: `/api/endpoints/${id}/rotate-secret`,
      headers: apiAuth,
    });
    await app.inject({ method: 'POST', url: `/api/endpoints/${id}/test`, headers: apiAuth });
    await publishEvents(app, [{}]);
    await waitFor(async () => (await endpointDeliveries(app, id, 'succeeded')).length === 2);
    const logText = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    for (const value of [secret, rotated.json().secret as string]) {
      expect(logText).not.toContain(value.slice(6));
    }
    expect(logText).not.toContain('whsec_');
  });
});

describePostgres('delivery workers sharing Postgres', () => {
  let db: TestDatabase;
  const use = useCleanup();
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('never sends one delivery from two workers at once, and sends each exactly once', async () => {
    const sink = await use.sink({ delayMs: 30 });
    const other = await openDatabase({ kind: 'postgres', url: db.url!, poolSize: 5 });
    const first = await use.app(db.database, { OUTBOUND_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '10000' });
    const second = await use.app(other, { OUTBOUND_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '10000' });
    const { id } = await createEndpoint(first, { url: sink.url });
    const events = await publishEvents(
      first,
      Array.from({ length: 60 }, () => ({})),
    );
    second.changes.emit({ deliveries: 60 });
    await waitFor(
      async () => (await endpointDeliveries(first, id, 'succeeded')).length === 60,
      20_000,
      'every delivery',
    );
    expect(sink.maxConcurrentPerWebhookId).toBe(1);
    const ids = sink.received.map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.webhookId)));
    await second.close();
    await other.close();
  });

  it('listens again after a Postgres outage and still wakes on NOTIFY', async () => {
    const sink = await use.sink();
    const target = new URL(db.url!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.port = String(proxy.port);
    const viaProxy = await openDatabase({
      kind: 'postgres',
      url: target.toString(),
      connectionTimeoutMs: 1000,
    });
    const producer = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const { id } = await createEndpoint(producer, { url: sink.url });
    const consumer = await use.app(viaProxy, { OUTBOUND_POLL_INTERVAL_MS: '60000' });
    const listening = async () => {
      const result = await db.database.pool!.query(
        "select 1 from pg_stat_activity where application_name = 'hookline-listen' and datname = current_database() and query like 'LISTEN%'",
      );
      return result.rowCount === 1;
    };
    await waitFor(listening, 10_000, 'the first LISTEN');
    await proxy.cut();
    await waitFor(async () => !(await listening()), 10_000, 'the LISTEN connection to drop');
    await proxy.restore();
    await waitFor(listening, 10_000, 'LISTEN again');
    await publishEvents(producer, [{}]);
    await waitFor(() => sink.received.length === 1, 20_000, 'a NOTIFY-driven delivery after the outage');
    await waitFor(async () => (await endpointDeliveries(producer, id, 'succeeded')).length === 1);
    await consumer.close();
    await viaProxy.close();
    await proxy.close();
  });

  it('wakes on NOTIFY from another instance without waiting for the poll', async () => {
    const sink = await use.sink();
    const other = await openDatabase({ kind: 'postgres', url: db.url!, poolSize: 2 });
    const producer = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const { id } = await createEndpoint(producer, { url: sink.url });
    const consumer = await use.app(other, { OUTBOUND_POLL_INTERVAL_MS: '60000' });
    // Let the consumer's startup claim round and LISTEN settle, so only NOTIFY can wake it now.
    await waitFor(async () => {
      const rows = await other.pool!.query(
        "select 1 from pg_stat_activity where application_name = 'hookline-listen' and datname = current_database() and query like 'LISTEN%'",
      );
      return rows.rowCount === 1;
    });
    await publishEvents(producer, [{}]);
    await waitFor(() => sink.received.length === 1, 20_000, 'a NOTIFY-driven delivery');
    expect(
      (await endpointDeliveries(producer, id, 'succeeded')).length +
        (await endpointDeliveries(producer, id, 'delivering')).length,
    ).toBe(1);
    await consumer.close();
    await other.close();
  });
});
