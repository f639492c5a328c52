import { and, eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries } from '../../../drizzle/schema.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint, endpointDeliveries, publishEvents } from '../../support/outbound.js';

interface Queue {
  endpointId: string;
  paused: boolean;
  pending: number;
  scheduledForRetry: number;
  inFlight: number;
  dead: number;
  oldestPendingAgeSeconds: number | null;
  deliveredPerSecond: number;
}

describe.each(testDatabaseKinds())('queue stats and bulk retry on %s', (kind) => {
  // No worker: the deliveries stay exactly as each test puts them.
  const t = useTestApp(kind, { env: { OUTBOUND_WORKER_ENABLED: 'false' } });
  const db = () => t.db.database.db;

  async function idsOf(endpointId: string): Promise<number[]> {
    return (await endpointDeliveries(t.app, endpointId)).map((delivery) => delivery.id).sort((a, b) => a - b);
  }

  function setStatus(ids: number[], status: string, extra: Record<string, unknown> = {}) {
    return db()
      .update(deliveries)
      .set({ status, ...extra })
      .where(inArray(deliveries.id, ids));
  }

  async function stats() {
    const response = await t.app.inject({ method: 'GET', url: '/api/outbound/stats', headers: apiAuth });
    expect(response.statusCode).toBe(200);
    return response.json() as {
      paused: boolean;
      total: Omit<Queue, 'endpointId' | 'paused'>;
      endpoints: Queue[];
    };
  }

  function retry(payload: Record<string, unknown>) {
    return t.app.inject({ method: 'POST', url: '/api/deliveries/retry', headers: apiAuth, payload });
  }

  it('counts the queue by state overall and per endpoint, with the oldest age and the delivery rate', async () => {
    const busy = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/busy' });
    const behind = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/behind' });
    await publishEvents(t.app, [{}, {}, {}, {}]);
    const [dead, failed, inFlight, delivered] = await idsOf(busy.id);
    await setStatus([dead!], 'dead');
    await setStatus([failed!], 'failed', { attempts: 1, nextAttemptAt: new Date(Date.now() + 3_600_000) });
    await setStatus([inFlight!], 'delivering', { attempts: 1, nextAttemptAt: new Date(Date.now() + 30_000) });
    await setStatus([delivered!], 'succeeded', { deliveredAt: new Date(), nextAttemptAt: new Date() });
    const [oldest] = await idsOf(behind.id);
    await db()
      .update(deliveries)
      .set({ createdAt: sql`now() - interval '120 seconds'` })
      .where(eq(deliveries.id, oldest!));
    await t.app.inject({ method: 'POST', url: `/api/endpoints/${behind.id}/pause`, headers: apiAuth });

    const answer = await stats();
    expect(answer.paused).toBe(false);
    const busyQueue = answer.endpoints.find((queue) => queue.endpointId === busy.id)!;
    expect(busyQueue).toMatchObject({
      paused: false,
      pending: 0,
      scheduledForRetry: 1,
      inFlight: 1,
      dead: 1,
      deliveredPerSecond: 1 / 60,
    });
    expect(busyQueue.oldestPendingAgeSeconds).toBeLessThan(120);
    const behindQueue = answer.endpoints.find((queue) => queue.endpointId === behind.id)!;
    expect(behindQueue).toMatchObject({ paused: true, pending: 4, dead: 0, deliveredPerSecond: 0 });
    expect(behindQueue.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(answer.total).toMatchObject({
      pending: 4,
      scheduledForRetry: 1,
      inFlight: 1,
      dead: 1,
      deliveredPerSecond: 1 / 60,
    });
    expect(answer.total.oldestPendingAgeSeconds).toBe(behindQueue.oldestPendingAgeSeconds);
    await setStatus([...(await idsOf(busy.id)), ...(await idsOf(behind.id))], 'succeeded');
  });

  it('re-queues dead or failed deliveries in bulk, by endpoint and creation time, with a fresh budget', async () => {
    const many = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/many', eventTypes: ['chat.read'] });
    const few = await createEndpoint(t.app, {
      url: 'http://127.0.0.1:9/few',
      eventTypes: ['account.status'],
    });
    // More than one batch of the bulk retry (500).
    await publishEvents(
      t.app,
      Array.from({ length: 1203 }, () => ({ type: 'chat.read' })),
    );
    await publishEvents(
      t.app,
      Array.from({ length: 3 }, () => ({ type: 'account.status' })),
    );
    const manyIds = await db()
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.endpointId, many.id))
      .orderBy(deliveries.id);
    const [old, failedA, failedB, ...recent] = manyIds.map((row) => row.id);
    await setStatus(recent, 'dead', { attempts: 8 });
    await setStatus([failedA!, failedB!], 'failed', { attempts: 3 });
    await setStatus([old!], 'dead', { attempts: 8, createdAt: new Date(Date.now() - 2 * 86_400_000) });
    await setStatus(await idsOf(few.id), 'dead', { attempts: 8 });

    const byEndpoint = await retry({ status: 'dead', endpointId: few.id });
    expect(byEndpoint.statusCode).toBe(202);
    expect(byEndpoint.json()).toEqual({ requeued: 3 });
    expect((await endpointDeliveries(t.app, few.id)).map((row) => [row.status, row.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);

    const since = new Date(Date.now() - 86_400_000).toISOString();
    expect((await retry({ status: 'dead', since })).json()).toEqual({ requeued: 1200 });
    expect((await retry({ status: 'failed' })).json()).toEqual({ requeued: 2 });
    expect((await retry({ status: 'dead' })).json()).toEqual({ requeued: 1 });
    const left = await db()
      .select({ n: sql<number>`count(*)::int` })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.endpointId, many.id),
          sql`(${deliveries.status} <> 'pending' or ${deliveries.attempts} <> 0)`,
        ),
      );
    expect(left[0]!.n).toBe(0);
  });

  it('refuses a bulk retry it cannot do, one field at a time', async () => {
    for (const [payload, status, code] of [
      [{ status: 'pending' }, 400, 'HL_ERR_INVALID_REQUEST'],
      [{}, 400, 'HL_ERR_INVALID_REQUEST'],
      [{ status: 'dead', since: 'yesterday' }, 400, 'HL_ERR_INVALID_REQUEST'],
      [{ status: 'dead', extra: true }, 400, 'HL_ERR_INVALID_REQUEST'],
      [{ status: 'dead', endpointId: 'ep_nope' }, 404, 'HL_ERR_NOT_FOUND'],
    ] as const) {
      const response = await retry(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.json().error.code).toBe(code);
    }
  });
});
