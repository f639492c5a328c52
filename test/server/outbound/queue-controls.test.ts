import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { apiAuth } from '../../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../../support/databases.js';
import {
  createEndpoint,
  endpointDeliveries,
  publishEvents,
  useOutboundFixtures,
} from '../../support/outbound.js';
import { waitFor } from '../../support/webhook-sink.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testDatabaseKinds())('pausing and resuming outbound delivery on %s', (kind) => {
  let db: TestDatabase;
  const use = useOutboundFixtures();
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it("keeps a paused endpoint's deliveries queued and unspent, then sends them in creation order", async () => {
    const held = await use.sink();
    const other = await use.sink();
    const app = await use.app(db.database, { OUTBOUND_ENDPOINT_CONCURRENCY: '1' });
    const paused = await createEndpoint(app, { url: held.url });
    await createEndpoint(app, { url: other.url });
    const pause = await app.inject({
      method: 'POST',
      url: `/api/endpoints/${paused.id}/pause`,
      headers: apiAuth,
    });
    expect(pause.statusCode).toBe(200);
    expect(pause.json().pausedAt).toEqual(expect.any(String));

    const events = await publishEvents(
      app,
      Array.from({ length: 5 }, () => ({})),
    );
    // One at a time, the other endpoint's five took five claim rounds that also saw the paused one's.
    await waitFor(() => other.received.length === 5, 10_000, 'the other endpoint');
    expect(held.received).toHaveLength(0);
    const waiting = await endpointDeliveries(app, paused.id);
    expect(waiting.map((delivery) => [delivery.status, delivery.attempts])).toEqual(
      Array.from({ length: 5 }, () => ['pending', 0]),
    );

    const resume = await app.inject({
      method: 'POST',
      url: `/api/endpoints/${paused.id}/resume`,
      headers: apiAuth,
    });
    expect(resume.json().pausedAt).toBeNull();
    await waitFor(() => held.received.length === 5, 10_000, 'the backlog after resume');
    expect(held.received.map((request) => request.headers['webhook-id'])).toEqual(
      events.map((event) => event.webhookId),
    );
  });

  it('pauses the whole pool for every instance, and a resume from any instance wakes them all', async () => {
    const sink = await use.sink();
    const controller = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    // On Postgres a second instance with its own pool and LISTEN connection, woken by NOTIFY only.
    const elsewhere =
      kind === 'postgres' ? await openDatabase({ kind: 'postgres', url: db.url!, poolSize: 3 }) : db.database;
    const instance = await use.app(elsewhere, {
      OUTBOUND_POLL_INTERVAL_MS: kind === 'postgres' ? '60000' : '50',
    });
    const { id } = await createEndpoint(controller, { url: sink.url });
    const paused = await controller.inject({ method: 'POST', url: '/api/outbound/pause', headers: apiAuth });
    expect(paused.json()).toMatchObject({ paused: true, pausedAt: expect.any(String) });

    await publishEvents(instance, [{}, {}, {}]);
    // The commit woke the instance's worker at once; a few more rounds find nothing either.
    await sleep(300);
    expect(sink.received).toHaveLength(0);
    expect((await endpointDeliveries(instance, id)).every((delivery) => delivery.attempts === 0)).toBe(true);
    const stats = (
      await instance.inject({ method: 'GET', url: '/api/outbound/stats', headers: apiAuth })
    ).json();
    expect(stats.paused).toBe(true);
    expect(stats.endpoints.find((queue: { endpointId: string }) => queue.endpointId === id)).toMatchObject({
      pending: 3,
      inFlight: 0,
    });

    const resumed = await controller.inject({
      method: 'POST',
      url: '/api/outbound/resume',
      headers: apiAuth,
    });
    expect(resumed.json()).toEqual({ paused: false, pausedAt: null });
    await waitFor(() => sink.received.length === 3, 10_000, 'the deliveries after resume');
    if (elsewhere !== db.database) {
      await instance.close();
      await elsewhere.close();
    }
  });

  it('answers 404 for pausing or resuming an endpoint that does not exist', async () => {
    const app = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    for (const action of ['pause', 'resume']) {
      const response = await app.inject({
        method: 'POST',
        url: `/api/endpoints/ep_nope/${action}`,
        headers: apiAuth,
      });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('HL_ERR_NOT_FOUND');
    }
  });
});
