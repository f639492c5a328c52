import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { type ChaosDatabase, createChaosDatabase } from './support/chaos-database.js';
import { killAllGateways, printGatewayLogsOnFailure, startGateway } from './support/gateway-process.js';
import { createEndpoint, deliveryCounts, FAST_OUTBOUND_ENV } from './support/outbound.js';
import { burstPayloads, sendBurst } from './support/provider.js';
import { recordScenario } from './support/results.js';
import { type Subscriber, startSubscriber } from './support/subscriber.js';

const EVENTS = 200;
/** Requests the worker may hold open to the endpoint at once: all of them are cut by the kill. */
const IN_FLIGHT = 16;

describePostgres('a delivery worker killed while its requests are in flight', () => {
  let database: ChaosDatabase | undefined;
  let subscriber: Subscriber | undefined;
  afterAll(async () => {
    await killAllGateways();
    await subscriber?.close();
    await database?.dispose();
  });

  it('redelivers the cut requests after their lease with the same webhook-id, and loses nothing', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    const env = {
      ...FAST_OUTBOUND_ENV,
      // Long enough that the held requests are still in flight when the kill comes, short enough
      // that the restarted worker does not wait long for the cut deliveries' leases to end.
      OUTBOUND_TIMEOUT_MS: '6000',
      OUTBOUND_LEASE_MS: '7000',
      OUTBOUND_ENDPOINT_CONCURRENCY: String(IN_FLIGHT),
    };
    const first = await startGateway({ databaseUrl: database.url, env });
    subscriber = await startSubscriber('hold');
    const endpoint = await createEndpoint(first.url, subscriber.url);
    subscriber.useSecret(endpoint.secret);

    const payloads = burstPayloads(EVENTS);
    const deliveries = await sendBurst(payloads, { baseUrl: first.url, concurrency: 16, retryDelayMs: 500 });
    expect(deliveries.every((delivery) => delivery.acknowledged)).toBe(true);
    await waitFor(() => subscriber!.held === IN_FLIGHT, 'the worker holding its slots open', {
      timeoutMs: 15_000,
    });
    const cutIds = new Set(subscriber.requests.map((request) => request.webhookId));
    await first.kill();
    subscriber.setMode('up');

    // The new process finds the cut deliveries still leased: they become due when the lease ends.
    const second = await startGateway({ databaseUrl: database.url, env });
    await waitFor(
      async () => (await deliveryCounts(database!.pool)).byStatus.succeeded === EVENTS,
      'every delivery succeeded',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const counts = await deliveryCounts(database.pool);
    const deliveredMessages = new Set([...subscriber.processed.values()].map((body) => body.messageId));
    const lostIds = payloads.map((p) => p.message_id).filter((id) => !deliveredMessages.has(id));
    const redeliveredCut = [...cutIds].filter((id) => subscriber!.processed.has(id)).length;
    // A clean shutdown after the fault: nothing left hanging in the process.
    expect(await second.stop()).toBe(0);

    await recordScenario({
      id: 'worker-killed-mid-delivery',
      scenario: `gateway killed with SIGKILL while ${IN_FLIGHT} deliveries were held open by the subscriber; restarted`,
      sent: EVENTS,
      acknowledged: deliveries.filter((delivery) => delivery.acknowledged).length,
      stored: counts.total,
      delivered: subscriber.processed.size,
      lost: lostIds.length,
      duplicated: subscriber.processed.size - deliveredMessages.size,
      notes:
        `${cutIds.size} requests cut by the kill, ${redeliveredCut} of them redelivered after the lease ` +
        `with the same webhook-id; redeliveries deduped by webhook-id: ${subscriber.redeliveries}; ` +
        `bad signatures: ${subscriber.badSignatures}`,
    });

    expect(cutIds.size).toBe(IN_FLIGHT);
    expect(redeliveredCut).toBe(IN_FLIGHT);
    expect(counts.byStatus).toEqual({ succeeded: EVENTS });
    expect(subscriber.badSignatures).toBe(0);
    expect(lostIds).toEqual([]);
    expect([...subscriber.processed.keys()].sort()).toEqual([...counts.webhookIds].sort());
    expect(deliveredMessages.size).toBe(EVENTS);
  });
});
