import { Agent } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { describePostgres } from '../support/databases.js';
import {
  type ChaosDatabase,
  createChaosDatabase,
  storedCopies,
  tallyIngest,
} from './support/chaos-database.js';
import {
  type GatewayProcess,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
} from './support/gateway-process.js';
import { burstPayloads, retriesOf, sendBurst } from './support/provider.js';
import { recordScenario } from './support/results.js';

const BURST = 5000;
/** Kill once this many webhooks are acknowledged: well inside the burst. */
const KILL_AFTER_ACKNOWLEDGED = 1500;

describePostgres('kill -9 of the gateway during a 5,000-webhook burst', () => {
  let database: ChaosDatabase | undefined;
  const agent = new Agent({ connections: 64 });
  afterAll(async () => {
    await killAllGateways();
    await agent.close();
    await database?.dispose();
  });

  it('stores every acknowledged webhook exactly once and dedupes the retries', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    const databaseUrl = database.url;
    const first = await startGateway({ databaseUrl });
    let restarted: Promise<GatewayProcess> | undefined;
    let killedAt = Number.POSITIVE_INFINITY;

    const payloads = burstPayloads(BURST);
    let acknowledged = 0;
    const deliveries = await sendBurst(payloads, {
      baseUrl: first.url,
      concurrency: 64,
      // Retries 0.5, 1, 2, 4 and 8 s after a failure: 15.5 s, far more than a restart takes.
      retryDelayMs: 500,
      dispatcher: agent,
      onDelivered: (delivery) => {
        if (delivery.acknowledged) acknowledged++;
        if (acknowledged === KILL_AFTER_ACKNOWLEDGED && !restarted) {
          killedAt = Date.now();
          // Same port: the provider retries the URL it was given.
          restarted = first.kill().then(() => startGateway({ databaseUrl, port: first.port }));
        }
      },
    });
    expect(restarted, 'the burst ended before the kill').toBeDefined();
    const second = await restarted!;
    // A clean shutdown after the fault: nothing left hanging in the process.
    expect(await second.stop()).toBe(0);

    const acknowledgedIds = new Set(deliveries.filter((d) => d.acknowledged).map((d) => d.messageId));
    const tally = tallyIngest(
      payloads.map((payload) => payload.message_id),
      acknowledgedIds,
      await storedCopies(database.pool),
    );
    const beforeKill = deliveries.filter((d) => d.acknowledged && d.finishedAt <= killedAt).length;
    const retriedIds = deliveries
      .filter((d) => d.acknowledged && d.attempts.length > 1)
      .map((d) => d.messageId);
    // Every transaction of the restarted process began after the kill, so a retried webhook whose
    // row is older was committed by the killed one: its answer was cut, and the retry was a duplicate.
    const committedBeforeKill = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from inbound_events
        where raw_body::jsonb->>'message_id' = any($1) and received_at < to_timestamp($2 / 1000.0)`,
      [retriedIds, killedAt],
    );

    await recordScenario({
      id: 'kill-9-during-burst',
      scenario: `gateway killed with SIGKILL after ${KILL_AFTER_ACKNOWLEDGED} of ${BURST} webhooks were acknowledged, restarted on the same port`,
      sent: BURST,
      acknowledged: acknowledgedIds.size,
      stored: tally.stored,
      delivered: null,
      lost: tally.lost.length,
      duplicated: tally.duplicated.length,
      notes:
        `acknowledged before the kill: ${beforeKill}, after it: ${acknowledgedIds.size - beforeKill} ` +
        `(${retriedIds.length} only through a retry, ${committedBeforeKill.rows[0]!.n} of them committed ` +
        `before the kill with the answer cut); provider retries: ${retriesOf(deliveries)}; ` +
        `stored but never acknowledged: ${tally.storedUnacknowledged.length}`,
    });

    expect(tally.lost, 'acknowledged but not stored').toEqual([]);
    expect(tally.duplicated, 'stored more than once').toEqual([]);
    expect(retriedIds.length, 'the kill should have forced retries').toBeGreaterThan(0);
    // Retries span the restart, so the provider eventually sees every webhook acknowledged.
    expect(acknowledgedIds.size).toBe(BURST);
    expect(tally.stored).toBe(BURST);
  });
});
