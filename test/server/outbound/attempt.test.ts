import { describe, expect, it } from 'vitest';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import {
  attemptsOf,
  createEndpoint,
  endpointDeliveries,
  FAST_OUTBOUND_ENV,
  publishEvents,
  verifyWebhook,
} from '../../support/outbound.js';
import { startWebhookSink, waitFor } from '../../support/webhook-sink.js';

describe.each(testDatabaseKinds())('delivery attempts on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });

  /** Each test gets a sink of its own, so it sees only its own requests. */
  async function endpointOnOwnSink(body: Record<string, unknown> = {}) {
    const own = await startWebhookSink();
    const endpoint = await createEndpoint(t.app, { url: own.url, ...body });
    return { own, ...endpoint };
  }

  it('delivers a signed Standard Webhook the standardwebhooks library verifies, and logs the attempt', async () => {
    const { own, id, secret } = await endpointOnOwnSink({ headers: { 'X-Team': 'crm' } });
    try {
      const [event] = await publishEvents(t.app, [{}]);
      const received = await waitFor(() => own.received[0], 10_000, 'the delivery');
      expect(verifyWebhook(secret, received)).toEqual({
        type: event!.type,
        timestamp: event!.timestamp,
        data: event!.data,
      });
      expect(received.headers['webhook-id']).toBe(event!.webhookId);
      expect(received.headers['content-type']).toBe('application/json');
      expect(received.headers['x-team']).toBe('crm');
      const [delivery] = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'succeeded');
        return rows.length === 1 ? rows : undefined;
      });
      expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null });
      const attempts = await attemptsOf(t.db.database, delivery!.id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ statusCode: 200, error: null, responseBodyExcerpt: 'ok' });
      expect(own.received).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('retries 500s on the schedule with the same webhook-id until a 2xx', async () => {
    const { own, id, secret } = await endpointOnOwnSink();
    try {
      own.answer({ status: 500, body: 'boom' }, { status: 500, body: 'boom again' });
      const [event] = await publishEvents(t.app, [{}]);
      await waitFor(() => own.received.length >= 3, 10_000, 'three requests');
      for (const request of own.received) {
        expect(request.headers['webhook-id']).toBe(event!.webhookId);
        expect(verifyWebhook(secret, request)).toMatchObject({ type: 'message.received' });
      }
      const [delivery] = await waitFor(
        async () => (await endpointDeliveries(t.app, id, 'succeeded'))[0] && endpointDeliveries(t.app, id),
      );
      expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3 });
      const attempts = await attemptsOf(t.db.database, delivery!.id);
      expect(
        attempts.map((attempt) => [attempt.statusCode, attempt.error, attempt.responseBodyExcerpt]),
      ).toEqual([
        [500, 'HTTP 500', 'boom'],
        [500, 'HTTP 500', 'boom again'],
        [200, null, 'ok'],
      ]);
    } finally {
      await own.close();
    }
  });

  it.each([429, 503])('honours Retry-After on %i instead of the schedule', async (status) => {
    const { own, id } = await endpointOnOwnSink();
    try {
      own.answer({ status, headers: { 'Retry-After': '2' } });
      await publishEvents(t.app, [{}]);
      const [waiting] = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'failed');
        return rows.length ? rows : undefined;
      });
      const [firstAttempt] = await attemptsOf(t.db.database, waiting!.id);
      const scheduledAfterMs = Date.parse(waiting!.nextAttemptAt!) - firstAttempt!.attemptedAt.getTime();
      expect(scheduledAfterMs).toBeGreaterThanOrEqual(2000);
      await waitFor(
        async () => (await endpointDeliveries(t.app, id, 'succeeded')).length === 1,
        10_000,
        'the retry',
      );
      expect(own.received).toHaveLength(2);
    } finally {
      await own.close();
    }
  });

  it('kills the delivery and disables the endpoint on 410 Gone', async () => {
    const { own, id } = await endpointOnOwnSink();
    try {
      own.fallback({ status: 410 });
      await publishEvents(t.app, [{}]);
      await waitFor(
        async () => (await endpointDeliveries(t.app, id, 'dead')).length === 1,
        10_000,
        'a dead delivery',
      );
      const endpoint = (
        await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth })
      ).json();
      expect(endpoint).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
      await publishEvents(t.app, [{}]);
      expect(await endpointDeliveries(t.app, id)).toHaveLength(1);
      expect(own.received).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('records a timeout and gives up when the attempt budget is spent', async () => {
    const { own, id } = await endpointOnOwnSink({ maxAttempts: 2 });
    try {
      own.fallback('hang');
      await publishEvents(t.app, [{}]);
      const [dead] = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'dead');
        return rows.length ? rows : undefined;
      });
      expect(dead).toMatchObject({
        attempts: 2,
        lastStatusCode: null,
        lastError: expect.stringContaining('timeout'),
      });
      const attempts = await attemptsOf(t.db.database, dead!.id);
      expect(attempts).toHaveLength(2);
      for (const attempt of attempts) expect(attempt.error).toContain('timeout');
    } finally {
      await own.close();
    }
  });

  it('keeps only the first 4 KiB of a response body in the attempt log', async () => {
    const { own, id } = await endpointOnOwnSink();
    try {
      own.answer({ status: 200, body: 'x'.repeat(10_000) });
      await publishEvents(t.app, [{}]);
      const [delivery] = await waitFor(async () => {
        const rows = await endpointDeliveries(t.app, id, 'succeeded');
        return rows.length ? rows : undefined;
      });
      const [attempt] = await attemptsOf(t.db.database, delivery!.id);
      expect(attempt!.responseBodyExcerpt).toBe('x'.repeat(4096));
    } finally {
      await own.close();
    }
  });

  it('sends both signatures during a rotation overlap, each verifying with its own secret', async () => {
    const { own, id, secret: oldSecret } = await endpointOnOwnSink();
    try {
      const rotated = await t.app.inject({
        method: 'POST',
        url: `/api/endpoints/${id}/rotate-secret`,
        headers: apiAuth,
      });
      const newSecret = rotated.json().secret as string;
      await publishEvents(t.app, [{}]);
      const received = await waitFor(() => own.received[0]);
      expect(String(received.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifyWebhook(oldSecret, received)).toMatchObject({ type: 'message.received' });
      expect(verifyWebhook(newSecret, received)).toMatchObject({ type: 'message.received' });
    } finally {
      await own.close();
    }
  });

  it('delivers only the event types and accounts an endpoint subscribed to', async () => {
    const { own, id } = await endpointOnOwnSink({ eventTypes: ['chat.read'], accountIds: ['acc_2'] });
    try {
      await publishEvents(t.app, [
        { type: 'message.received', accountId: 'acc_2' },
        { type: 'chat.read', accountId: 'acc_1' },
        { type: 'chat.read', accountId: 'acc_2', data: { accountId: 'acc_2', chatId: 'c' } },
      ]);
      await waitFor(async () => (await endpointDeliveries(t.app, id, 'succeeded')).length === 1);
      expect(own.received).toHaveLength(1);
      expect(JSON.parse(own.received[0]!.body)).toMatchObject({
        type: 'chat.read',
        data: { accountId: 'acc_2' },
      });
    } finally {
      await own.close();
    }
  });
});
