import { afterAll, expect, it } from 'vitest';
import { fakeAccount } from '../../tools/fake-unipile/payloads.js';
import { describePostgres } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import {
  type ChaosDatabase,
  createChaosDatabase,
  storedCopies,
  tallyIngest,
} from './support/chaos-database.js';
import { killAllGateways, printGatewayLogsOnFailure, startGateway } from './support/gateway-process.js';
import { burstPayloads, retriesOf, roundRobinBalancer, sendBurst } from './support/provider.js';
import { mintToken, type ObservedClient, observedClient, repeatedSeqs } from './support/realtime-observer.js';
import { recordScenario } from './support/results.js';

const BURST = 2000;
const CLIENTS = 6;
/** Kill instance A once this many webhooks are acknowledged. */
const KILL_AFTER_ACKNOWLEDGED = 600;

describePostgres('two instances, one killed mid-run: its WebSocket clients resume on the other', () => {
  let database: ChaosDatabase | undefined;
  const clients: ObservedClient[] = [];
  afterAll(async () => {
    for (const observed of clients) observed.client.close();
    await killAllGateways();
    await database?.dispose();
  });

  it('delivers every committed envelope exactly once to every client, with no gap by seq', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    const [a, b] = await Promise.all([
      startGateway({ databaseUrl: database.url }),
      startGateway({ databaseUrl: database.url }),
    ]);
    let aAlive = true;
    const accounts = [fakeAccount(), fakeAccount(), fakeAccount()];
    const token = await mintToken(
      a.url,
      accounts.map((account) => account.id),
    );

    const socketUrl = (gateway: { url: string }) => `${gateway.url.replace('http', 'ws')}/ws/messages`;
    for (let index = 0; index < CLIENTS; index++) {
      clients.push(observedClient({ url: () => socketUrl(aAlive ? a : b), getToken: () => token }));
    }
    await waitFor(() => clients.every((observed) => observed.hellos.length === 1), 'every client on A');
    const startSeq = Math.min(...clients.map((observed) => observed.hellos[0]!));

    const balancer = roundRobinBalancer(() => (aAlive ? [a.url, b.url] : [b.url]));
    const payloads = burstPayloads(BURST, accounts);
    let acknowledged = 0;
    let killed: Promise<void> | undefined;
    const deliveries = await sendBurst(payloads, {
      baseUrl: a.url,
      concurrency: 32,
      retryDelayMs: 300,
      dispatcher: balancer.dispatcher,
      onDelivered: (delivery) => {
        if (delivery.acknowledged) acknowledged++;
        if (acknowledged === KILL_AFTER_ACKNOWLEDGED && !killed) {
          aAlive = false;
          killed = a.kill();
        }
      },
    });
    await balancer.close();
    expect(killed, 'the burst ended before the kill').toBeDefined();
    await killed;

    const committed = (
      await database.pool.query<{ seq: string }>(
        'select seq from realtime_events where seq > $1 order by seq',
        [startSeq],
      )
    ).rows.map((row) => Number(row.seq));
    const lastCommitted = committed.at(-1) ?? startSeq;
    await waitFor(
      () => clients.every((observed) => (observed.client.lastSeq ?? 0) >= lastCommitted),
      'every client caught up with the last committed seq',
      { timeoutMs: 30_000, intervalMs: 50 },
    );

    const acknowledgedIds = new Set(deliveries.filter((d) => d.acknowledged).map((d) => d.messageId));
    const tally = tallyIngest(
      payloads.map((payload) => payload.message_id),
      acknowledgedIds,
      await storedCopies(database.pool),
    );
    let missingEnvelopes = 0;
    let repeatedEnvelopes = 0;
    for (const observed of clients) {
      // Every client may have joined at a slightly different hello; compare from its own.
      const expected = committed.filter((seq) => seq > observed.hellos[0]!);
      const got = observed.raw.map((frame) => frame.seq);
      missingEnvelopes += expected.filter((seq) => !got.includes(seq)).length;
      repeatedEnvelopes += repeatedSeqs(observed.raw).length;
    }
    const delivered = clients.reduce((sum, observed) => sum + observed.delivered.length, 0);

    await recordScenario({
      id: 'instance-killed-websocket-resume',
      scenario: `two instances share ${BURST} webhooks round-robin; ${CLIENTS} WebSocket clients on A; A killed with SIGKILL after ${KILL_AFTER_ACKNOWLEDGED} acknowledged; clients resume on B with since`,
      sent: BURST,
      acknowledged: acknowledgedIds.size,
      stored: tally.stored,
      delivered,
      lost: tally.lost.length + missingEnvelopes,
      duplicated: tally.duplicated.length + repeatedEnvelopes,
      notes:
        `delivered = ${CLIENTS} clients × ${committed.length} committed envelopes, checked by seq ` +
        `(raw frames, before the client's own dedupe); provider retries: ${retriesOf(deliveries)}`,
    });

    expect(tally.lost).toEqual([]);
    expect(tally.duplicated).toEqual([]);
    expect(acknowledgedIds.size).toBe(BURST);
    expect(committed.length).toBe(BURST);
    for (const observed of clients) {
      // One connection to A, then at least one to B.
      expect(observed.hellos.length).toBeGreaterThanOrEqual(2);
      const expected = committed.filter((seq) => seq > observed.hellos[0]!);
      expect(observed.raw.map((frame) => frame.seq)).toEqual(expected);
      expect(new Set(observed.raw.map((frame) => frame.messageId)).size).toBe(expected.length);
    }
    // A clean shutdown after the fault: nothing left hanging in the process.
    expect(await b.stop()).toBe(0);
  });
});
