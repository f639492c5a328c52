import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries } from '../../../drizzle/schema.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import {
  createEndpoint,
  endpointDeliveries,
  FAST_OUTBOUND_ENV,
  publishEvents,
  verifyWebhook,
} from '../../support/outbound.js';
import { startWebhookSink, type WebhookSink, waitFor } from '../../support/webhook-sink.js';

const OPERATIONAL = ['endpoint.disabled', 'delivery.exhausted'];

describe.each(testDatabaseKinds())('operational events on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });

  function operationalDeliveriesTo(endpointId: string, type: string) {
    return t.db.database.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.endpointId, endpointId), eq(deliveries.eventType, type)));
  }

  it('tells subscribed endpoints, never the one concerned, and never reports its own exhaustion', async () => {
    const sinks = await Promise.all(Array.from({ length: 4 }, () => startWebhookSink()));
    const [watcherSink, failingSink, brokenWatcherSink, everythingSink] = sinks as [
      WebhookSink,
      WebhookSink,
      WebhookSink,
      WebhookSink,
    ];
    try {
      failingSink.fallback({ status: 500 });
      brokenWatcherSink.fallback({ status: 500 });
      const watcher = await createEndpoint(t.app, { url: watcherSink.url, eventTypes: OPERATIONAL });
      const failing = await createEndpoint(t.app, {
        url: failingSink.url,
        eventTypes: ['message.received', 'delivery.exhausted'],
        maxAttempts: 2,
      });
      const brokenWatcher = await createEndpoint(t.app, {
        url: brokenWatcherSink.url,
        eventTypes: ['delivery.exhausted'],
        maxAttempts: 1,
      });
      const everything = await createEndpoint(t.app, { url: everythingSink.url });
      const [event] = await publishEvents(t.app, [{}]);

      const report = await waitFor(
        () => watcherSink.received.find((request) => request.body.includes('delivery.exhausted')),
        10_000,
        'delivery.exhausted at the watcher',
      );
      expect(verifyWebhook(watcher.secret, report)).toMatchObject({
        type: 'delivery.exhausted',
        data: {
          endpointId: failing.id,
          webhookId: event!.webhookId,
          eventType: 'message.received',
          attempts: 2,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
        },
      });
      // The broken watcher's copy dies too; once it is dead, everything it caused is enqueued.
      await waitFor(async () => (await endpointDeliveries(t.app, brokenWatcher.id, 'dead')).length === 1);
      expect(await operationalDeliveriesTo(failing.id, 'delivery.exhausted')).toHaveLength(0);
      expect(await operationalDeliveriesTo(everything.id, 'delivery.exhausted')).toHaveLength(0);
      expect(await operationalDeliveriesTo(watcher.id, 'delivery.exhausted')).toHaveLength(1);
      expect(failingSink.received.every((request) => request.body.includes('message.received'))).toBe(true);
    } finally {
      await Promise.all(sinks.map((sink) => sink.close()));
    }
  });

  it('sends endpoint.disabled when a 410 disables an endpoint', async () => {
    const [watcherSink, goneSink] = await Promise.all([startWebhookSink(), startWebhookSink()]);
    try {
      goneSink.fallback({ status: 410 });
      const watcher = await createEndpoint(t.app, {
        url: watcherSink.url,
        eventTypes: ['endpoint.disabled'],
      });
      const gone = await createEndpoint(t.app, {
        url: goneSink.url,
        eventTypes: ['chat.read', 'endpoint.disabled'],
      });
      await publishEvents(t.app, [{ type: 'chat.read' }]);
      const report = await waitFor(
        () => watcherSink.received.find((request) => request.body.includes(gone.id)),
        10_000,
        'endpoint.disabled at the watcher',
      );
      expect(verifyWebhook(watcher.secret, report)).toMatchObject({
        type: 'endpoint.disabled',
        data: { endpointId: gone.id, reason: 'the endpoint answered 410 Gone' },
      });
      expect(await operationalDeliveriesTo(gone.id, 'endpoint.disabled')).toHaveLength(0);
    } finally {
      await Promise.all([watcherSink.close(), goneSink.close()]);
    }
  });
});
