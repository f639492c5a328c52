import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeAccount } from '../../tools/fake-unipile/payloads.js';
import { testDatabaseKinds } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { type ChaosDatabase, storedCopies, tallyIngest, withCountingPool } from './support/chaos-database.js';
import {
  CHAOS_SECRETS,
  type GatewayProcess,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
  WEBHOOK_PATH,
} from './support/gateway-process.js';
import { createEndpoint, deliveryCounts, FAST_OUTBOUND_ENV } from './support/outbound.js';
import { type PrivatePostgres, startPrivatePostgres } from './support/private-postgres.js';
import { burstPayloads, retriesOf, sendBurst } from './support/provider.js';
import { mintToken, type ObservedClient, observedClient, repeatedSeqs } from './support/realtime-observer.js';
import { recordScenario } from './support/results.js';
import { type Subscriber, startSubscriber } from './support/subscriber.js';

const BURST = 3000;
/** Stop Postgres once this many webhooks are acknowledged. */
const STOP_AFTER_ACKNOWLEDGED = 800;
/** How long Postgres stays down: several provider retries land in the outage. */
const OUTAGE_MS = 3000;

async function answerOf(url: string, body?: string): Promise<{ status: number; code?: string }> {
  const response = await request(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'unipile-auth': CHAOS_SECRETS.INBOUND_SECRET },
    ...(body === undefined ? {} : { body }),
  });
  const json = (await response.body.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: response.statusCode, ...(json.error?.code ? { code: json.error.code } : {}) };
}

describe.each(testDatabaseKinds())('a real Postgres restart in the middle of a burst (%s)', () => {
  let postgres: PrivatePostgres | undefined;
  let database: ChaosDatabase | undefined;
  let subscriber: Subscriber | undefined;
  let observer: ObservedClient | undefined;
  afterAll(async () => {
    observer?.client.close();
    await killAllGateways();
    await subscriber?.close();
    await database?.dispose();
    await postgres?.destroy();
  });

  it('answers 503 while Postgres is down, recovers by itself, and loses or doubles nothing', async () => {
    printGatewayLogsOnFailure();
    postgres = await startPrivatePostgres();
    database = withCountingPool(postgres.url);
    const gateway: GatewayProcess = await startGateway({
      databaseUrl: postgres.url,
      env: FAST_OUTBOUND_ENV,
    });
    const accounts = [fakeAccount(), fakeAccount(), fakeAccount()];
    const [probe, ...payloads] = burstPayloads(BURST + 1, accounts);

    // The outage must not cost the other surfaces anything either: a WebSocket client stays
    // connected through it, and a subscriber endpoint receives every event.
    subscriber = await startSubscriber('up');
    const endpoint = await createEndpoint(gateway.url, subscriber.url);
    subscriber.useSecret(endpoint.secret);
    const token = await mintToken(
      gateway.url,
      accounts.map((account) => account.id),
    );
    observer = observedClient({
      url: `${gateway.url.replace('http', 'ws')}/ws/messages`,
      getToken: () => token,
    });
    await waitFor(() => observer!.hellos.length === 1, 'the WebSocket client connected');

    let outage: Promise<{ webhook: { status: number; code?: string }; readyz: number }> | undefined;
    let acknowledged = 0;
    const deliveries = await sendBurst(payloads, {
      baseUrl: gateway.url,
      concurrency: 32,
      // Retries 0.5, 1, 2, 4 and 8 s after a failure: they outlast the outage.
      retryDelayMs: 500,
      onDelivered: (delivery) => {
        if (delivery.acknowledged) acknowledged++;
        if (acknowledged === STOP_AFTER_ACKNOWLEDGED && !outage) {
          outage = (async () => {
            await postgres!.stop();
            const webhook = await answerOf(`${gateway.url}${WEBHOOK_PATH}`, JSON.stringify(probe));
            const readyz = (await answerOf(`${gateway.url}/readyz`)).status;
            await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
            await postgres!.start();
            return { webhook, readyz };
          })();
        }
      },
    });
    expect(outage, 'the burst ended before the outage').toBeDefined();
    const whileDown = await outage!;
    expect(whileDown.webhook).toEqual({ status: 503, code: 'HL_ERR_UNAVAILABLE' });
    expect(whileDown.readyz).toBe(503);
    // Nobody restarts the gateway: it must find Postgres again by itself.
    await waitFor(async () => (await answerOf(`${gateway.url}/readyz`)).status === 200, 'readyz 200 again', {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(gateway.child.exitCode).toBeNull();

    const committed = (
      await database.pool.query<{ seq: string }>(
        'select seq from realtime_events where seq > $1 order by seq',
        [observer.hellos[0]],
      )
    ).rows.map((row) => Number(row.seq));
    await waitFor(
      async () =>
        (observer!.client.lastSeq ?? 0) >= (committed.at(-1) ?? 0) &&
        (await deliveryCounts(database!.pool)).byStatus.succeeded === BURST,
      'the WebSocket client and the subscriber caught up',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const received = observer.raw.map((frame) => frame.seq);
    const missingEnvelopes = committed.filter((seq) => !received.includes(seq)).length;
    const repeatedEnvelopes = repeatedSeqs(observer.raw).length;
    const webhookMessages = new Set([...subscriber.processed.values()].map((body) => body.messageId));
    const missingWebhooks = payloads.filter((payload) => !webhookMessages.has(payload.message_id)).length;

    const acknowledgedIds = new Set(deliveries.filter((d) => d.acknowledged).map((d) => d.messageId));
    const copies = await storedCopies(database.pool);
    const tally = tallyIngest(
      payloads.map((payload) => payload.message_id),
      acknowledgedIds,
      copies,
    );
    const unavailableAnswers = deliveries.flatMap((d) => d.attempts).filter((a) => a === 503).length;
    // A clean shutdown after the fault: nothing left hanging in the process.
    expect(await gateway.stop()).toBe(0);

    await recordScenario({
      id: 'postgres-restart-mid-burst',
      scenario: `private Postgres stopped (fast) for ${OUTAGE_MS / 1000} s after ${STOP_AFTER_ACKNOWLEDGED} of ${BURST} webhooks, then started again`,
      sent: BURST,
      acknowledged: acknowledgedIds.size,
      stored: tally.stored,
      delivered: received.length,
      lost: tally.lost.length + missingEnvelopes + missingWebhooks,
      duplicated:
        tally.duplicated.length + repeatedEnvelopes + (subscriber.processed.size - webhookMessages.size),
      notes:
        `delivered = envelopes to a WebSocket client connected throughout; subscriber processed ` +
        `${webhookMessages.size} webhooks (${subscriber.redeliveries} redeliveries deduped); ` +
        `503 HL_ERR_UNAVAILABLE answers during the outage: ${unavailableAnswers}; provider retries: ` +
        `${retriesOf(deliveries)}; readyz 503 while down, 200 after without a restart; ` +
        `stored but never acknowledged: ${tally.storedUnacknowledged.length}`,
    });

    expect(tally.lost, 'acknowledged but not stored').toEqual([]);
    expect(tally.duplicated, 'stored more than once').toEqual([]);
    expect(unavailableAnswers).toBeGreaterThan(0);
    // The probe got 503, so nothing of it may have been written.
    expect(copies.messages.has(probe!.message_id)).toBe(false);
    expect(acknowledgedIds.size).toBe(BURST);
    expect(tally.stored).toBe(BURST);
    expect(received).toEqual(committed);
    expect(committed.length).toBe(BURST);
    expect(missingWebhooks).toBe(0);
    expect(subscriber.badSignatures).toBe(0);
  });
});
