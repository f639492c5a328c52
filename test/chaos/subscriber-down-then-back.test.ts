import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { type ChaosDatabase, createChaosDatabase } from './support/chaos-database.js';
import { killAllGateways, printGatewayLogsOnFailure, startGateway } from './support/gateway-process.js';
import { createEndpoint, deliveryCounts, FAST_OUTBOUND_ENV } from './support/outbound.js';
import { burstPayloads, sendBurst } from './support/provider.js';
import { recordScenario } from './support/results.js';
import { type Subscriber, startSubscriber } from './support/subscriber.js';

const EVENTS = 500;
/** How long the subscriber answers 503, then how long its port refuses connections. */
const UNAVAILABLE_MS = 2000;
const OFFLINE_MS = 2000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePostgres('a subscriber endpoint down for a while, then back', () => {
  let database: ChaosDatabase | undefined;
  let subscriber: Subscriber | undefined;
  afterAll(async () => {
    await killAllGateways();
    await subscriber?.close();
    await database?.dispose();
  });

  it('delivers every event, each webhook-id at least once and processed once', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    const gateway = await startGateway({ databaseUrl: database.url, env: FAST_OUTBOUND_ENV });
    subscriber = await startSubscriber('unavailable');
    const endpoint = await createEndpoint(gateway.url, subscriber.url);
    subscriber.useSecret(endpoint.secret);

    const payloads = burstPayloads(EVENTS);
    const deliveries = await sendBurst(payloads, {
      baseUrl: gateway.url,
      concurrency: 16,
      retryDelayMs: 500,
    });
    expect(deliveries.every((delivery) => delivery.acknowledged)).toBe(true);

    // 503 (the gateway retries on its schedule), then refused connections, then healthy again.
    await pause(UNAVAILABLE_MS);
    await subscriber.goOffline();
    await pause(OFFLINE_MS);
    subscriber.setMode('up');
    await subscriber.goOnline();

    await waitFor(
      async () => (await deliveryCounts(database!.pool)).byStatus.succeeded === EVENTS,
      'every delivery succeeded',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const counts = await deliveryCounts(database.pool);
    const unavailable = subscriber.requests.filter((request) => request.answered === 503).length;
    const deliveredMessages = new Set([...subscriber.processed.values()].map((body) => body.messageId));
    const lostIds = payloads.map((p) => p.message_id).filter((id) => !deliveredMessages.has(id));
    // A clean shutdown after the fault: nothing left hanging in the process.
    expect(await gateway.stop()).toBe(0);

    await recordScenario({
      id: 'subscriber-down-then-back',
      scenario: `subscriber answers 503 for ${UNAVAILABLE_MS / 1000} s, then refuses connections for ${OFFLINE_MS / 1000} s, then recovers`,
      sent: EVENTS,
      acknowledged: deliveries.filter((delivery) => delivery.acknowledged).length,
      stored: counts.total,
      delivered: subscriber.processed.size,
      lost: lostIds.length,
      duplicated: subscriber.processed.size - deliveredMessages.size,
      notes:
        `logged attempts: ${counts.attempts} (${unavailable} answered 503, the rest refused or 200); ` +
        `redeliveries deduped by webhook-id: ${subscriber.redeliveries}; bad signatures: ${subscriber.badSignatures}`,
    });

    expect(counts.total).toBe(EVENTS);
    expect(counts.byStatus).toEqual({ succeeded: EVENTS });
    expect(unavailable).toBeGreaterThan(0);
    expect(subscriber.badSignatures).toBe(0);
    expect(lostIds).toEqual([]);
    // Each delivery's webhook-id reached the receiver, and no two ids carried the same message.
    expect([...subscriber.processed.keys()].sort()).toEqual([...counts.webhookIds].sort());
    expect(deliveredMessages.size).toBe(EVENTS);
  });
});
