import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries } from '../../../drizzle/schema.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import {
  createEndpoint,
  endpointDeliveries,
  FAST_OUTBOUND_ENV,
  publishEvents,
  verifyWebhook,
} from '../../support/outbound.js';
import { startWebhookSink, waitFor } from '../../support/webhook-sink.js';

describe.each(testDatabaseKinds())('delivery routes on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });

  /** Each test gets a sink of its own, so it sees only its own requests. */
  async function endpointOnOwnSink(body: Record<string, unknown> = {}) {
    const own = await startWebhookSink();
    const endpoint = await createEndpoint(t.app, { url: own.url, ...body });
    return { own, ...endpoint };
  }

  it('retries a dead delivery by API and recovers failed ones since a time, with the same webhook-ids', async () => {
    const { own, id } = await endpointOnOwnSink({ maxAttempts: 1 });
    try {
      own.fallback({ status: 500 });
      const since = new Date(Date.now() - 1000).toISOString();
      const events = await publishEvents(t.app, [{}, {}, {}]);
      const dead = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'dead');
        return rows.length === 3 ? rows : undefined;
      });
      own.fallback({ status: 200 });

      const retried = await t.app.inject({
        method: 'POST',
        url: `/api/deliveries/${dead[0]!.id}/retry`,
        headers: apiAuth,
      });
      expect(retried.statusCode).toBe(202);
      expect(retried.json()).toMatchObject({ id: dead[0]!.id, status: 'pending', attempts: 0 });
      await waitFor(
        async () => (await endpointDeliveries(t.app, id, 'succeeded')).length === 1,
        10_000,
        'the retry',
      );

      const recovered = await t.app.inject({
        method: 'POST',
        url: `/api/endpoints/${id}/recover`,
        headers: apiAuth,
        payload: { since },
      });
      expect(recovered.statusCode).toBe(202);
      expect(recovered.json()).toEqual({ requeued: 2 });
      await waitFor(
        async () => (await endpointDeliveries(t.app, id, 'succeeded')).length === 3,
        10_000,
        'recovery',
      );
      const okIds = own.received.slice(3).map((request) => request.headers['webhook-id']);
      expect(okIds.sort()).toEqual(events.map((event) => event.webhookId).sort());

      const stats = (
        await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}/stats`, headers: apiAuth })
      ).json();
      expect(stats).toMatchObject({
        attempts: 6,
        succeeded: 3,
        successRate: 0.5,
        deliveries: { succeeded: 3 },
      });
      expect(stats.latencyMs.p50).toBeGreaterThanOrEqual(0);
      expect(stats.lastError).toMatchObject({ statusCode: 500, error: 'HTTP 500' });
    } finally {
      await own.close();
    }
  });

  it('POST /api/endpoints/:id/test sends endpoint.test now and returns the attempt', async () => {
    const { own, id, secret } = await endpointOnOwnSink({ eventTypes: ['chat.read'] });
    try {
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/endpoints/${id}/test`,
        headers: apiAuth,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        attempt: { statusCode: 200, error: null, responseBodyExcerpt: 'ok' },
        delivery: { status: 'succeeded', attempts: 1, eventType: 'endpoint.test' },
      });
      expect(own.received).toHaveLength(1);
      expect(verifyWebhook(secret, own.received[0]!)).toMatchObject({
        type: 'endpoint.test',
        data: { endpointId: id },
      });
    } finally {
      await own.close();
    }
  });

  it('reports the worker as an informational readiness check', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json().checks.outbound).toMatchObject({
      ok: true,
      state: expect.stringContaining('running'),
    });
  });

  it('refuses to retry a delivery while it is being sent (409 HL_ERR_CONFLICT)', async () => {
    const { own, id } = await endpointOnOwnSink();
    try {
      own.answer('hang');
      await publishEvents(t.app, [{}]);
      await waitFor(() => own.received.length === 1);
      const [delivering] = await t.db.database.db
        .select()
        .from(deliveries)
        .where(eq(deliveries.endpointId, id));
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/deliveries/${delivering!.id}/retry`,
        headers: apiAuth,
      });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('HL_ERR_CONFLICT');
    } finally {
      await own.close();
    }
  });
});
