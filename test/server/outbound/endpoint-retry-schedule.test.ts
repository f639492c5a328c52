import { describe, expect, it } from 'vitest';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import {
  attemptsOf,
  createEndpoint,
  endpointDeliveries,
  FAST_OUTBOUND_ENV,
  publishEvents,
} from '../../support/outbound.js';
import { startWebhookSink, waitFor } from '../../support/webhook-sink.js';

describe.each(testDatabaseKinds())("an endpoint's own retry schedule on %s", (kind) => {
  // The server's schedule is 30 ms: anything near an hour comes from the endpoint's.
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });

  /** The wait before the retry scheduled after the first answer, in seconds. */
  async function firstRetryDelay(
    body: Record<string, unknown>,
    answer: { status: number; headers?: Record<string, string> },
  ) {
    const sink = await startWebhookSink();
    try {
      sink.answer(answer);
      const { id } = await createEndpoint(t.app, { url: sink.url, ...body });
      await publishEvents(t.app, [{}]);
      const [delivery] = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'failed');
        return rows.length ? rows : undefined;
      });
      const [attempt] = await attemptsOf(t.db.database, delivery!.id);
      return (Date.parse(delivery!.nextAttemptAt!) - attempt!.attemptedAt.getTime()) / 1000;
    } finally {
      await sink.close();
    }
  }

  it('schedules the retry from retrySchedule (seconds), with the ±20% jitter', async () => {
    const delay = await firstRetryDelay({ retrySchedule: [3600, 7200] }, { status: 500 });
    expect(delay).toBeGreaterThanOrEqual(3600 * 0.8);
    expect(delay).toBeLessThanOrEqual(3600 * 1.2 + 30);
  });

  it('lets Retry-After win over the endpoint schedule', async () => {
    const delay = await firstRetryDelay(
      { retrySchedule: [60] },
      { status: 503, headers: { 'retry-after': '7200' } },
    );
    expect(delay).toBeGreaterThanOrEqual(7200);
    expect(delay).toBeLessThanOrEqual(7200 + 30);
  });

  it('shows the schedule, and PATCH null goes back to the server schedule', async () => {
    const { id } = await createEndpoint(t.app, {
      url: 'http://127.0.0.1:9/hook',
      retrySchedule: [30, 300, 1800],
    });
    const shown = await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth });
    expect(shown.json().retrySchedule).toEqual([30, 300, 1800]);
    const cleared = await t.app.inject({
      method: 'PATCH',
      url: `/api/endpoints/${id}`,
      headers: apiAuth,
      payload: { retrySchedule: null },
    });
    expect(cleared.json().retrySchedule).toBeNull();
  });

  it('refuses a schedule outside its bounds, one entry at a time', async () => {
    for (const retrySchedule of [[], [0], [86_401], [1.5], ['30'], Array.from({ length: 21 }, () => 60)]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/endpoints',
        headers: apiAuth,
        payload: { url: 'http://127.0.0.1:9/hook', retrySchedule },
      });
      expect(response.statusCode, JSON.stringify(retrySchedule)).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
    const longest = await t.app.inject({
      method: 'POST',
      url: '/api/endpoints',
      headers: apiAuth,
      payload: { url: 'http://127.0.0.1:9/hook', retrySchedule: Array.from({ length: 20 }, () => 86_400) },
    });
    expect(longest.statusCode).toBe(201);
  });
});
