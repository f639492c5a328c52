import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts } from '../../../drizzle/schema.js';
import { buildApp } from '../../../server/app.js';
import { apiAuth, TEST_SECRETS, testConfig } from '../../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../../support/databases.js';
import {
  captureLogs,
  createEndpoint,
  endpointDeliveries,
  FAST_OUTBOUND_ENV,
  publishEvents,
  useOutboundFixtures,
  verifyWebhook,
} from '../../support/outbound.js';
import { waitFor } from '../../support/webhook-sink.js';

describe.each(testDatabaseKinds())('delivery worker on %s', (kind) => {
  let db: TestDatabase;
  const use = useOutboundFixtures();
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
    expect(verifyWebhook(secret, after!)).toMatchObject({ type: 'message.received' });
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
    const { logger, lines } = captureLogs('info');
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
    expect(metrics).toMatch(/hookline_outbound_record_batch_size_count [1-9]/);
  });

  it('settles quietly when an endpoint is deleted while its delivery is in flight', async () => {
    const sink = await use.sink();
    sink.fallback('hang');
    const { logger, lines } = captureLogs('warn');
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

  it('fails attempts without sending when the secret cannot be decrypted (ENCRYPTION_KEY changed)', async () => {
    const sink = await use.sink();
    const creator = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const { id } = await createEndpoint(creator, { url: sink.url, maxAttempts: 1 });
    const otherKey = await buildApp({
      config: testConfig(FAST_OUTBOUND_ENV),
      secrets: { ...TEST_SECRETS, encryptionKey: Buffer.alloc(32, 9) },
      database: db.database,
    });
    try {
      await otherKey.ready();
      await publishEvents(creator, [{}]);
      const [dead] = await waitFor(async () => {
        const rows = await endpointDeliveries(creator, id, 'dead');
        return rows.length ? rows : undefined;
      });
      expect(dead!.lastError).toContain('decrypted');
      expect(sink.received).toHaveLength(0);
    } finally {
      await otherKey.close();
    }
  });

  it('never logs an endpoint secret, at trace level, through create, rotate, test and deliveries', async () => {
    const sink = await use.sink();
    const { logger, lines } = captureLogs('trace');
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
