import { Agent } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { describePostgres } from '../support/databases.js';
import { type ChaosDatabase, createChaosDatabase, storedCopies } from './support/chaos-database.js';
import {
  apiHeaders,
  type GatewayProcess,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
} from './support/gateway-process.js';
import { burstPayloads, sendBurst } from './support/provider.js';
import { recordScenario } from './support/results.js';

const BURST = 2000;
/** Kill once this many webhooks are acknowledged; the gateway stays down until the burst is over. */
const KILL_AFTER_ACKNOWLEDGED = 500;

/** Polls `GET /api/sync` until every account's current run started after `since` and finished. */
async function waitForSync(gateway: GatewayProcess, accounts: number, since: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await fetch(`${gateway.url}/api/sync`, { headers: apiHeaders });
    const body = (await response.json()) as {
      accounts: { running: boolean; run: { status: string; startedAt: string } | null }[];
    };
    const finished = body.accounts.filter(
      (account) =>
        !account.running && account.run?.status === 'done' && Date.parse(account.run.startedAt) >= since,
    );
    if (finished.length >= accounts) return;
    if (Date.now() > deadline) throw new Error(`sync did not finish: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describePostgres('gateway down longer than the provider retries during a burst', () => {
  let database: ChaosDatabase | undefined;
  let fake: FakeUnipile | undefined;
  const agent = new Agent({ connections: 32 });
  afterAll(async () => {
    await killAllGateways();
    await agent.close();
    await fake?.close();
    await database?.dispose();
  });

  it('recovers every lost webhook by catch-up sync after the restart: 0 lost, 0 duplicated', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    fake = await startFakeUnipile();
    const env = {
      UNIPILE_DSN: fake.url,
      UNIPILE_API_KEY: fake.apiKey,
      UNIPILE_SYNC_INTERVAL_SECONDS: '3600',
      UNIPILE_SYNC_PAGE_SIZE: '250',
    };
    const first = await startGateway({ databaseUrl: database.url, env });
    const payloads = burstPayloads(BURST);
    // The provider's REST API knows every message, whatever happens to its webhook.
    for (const payload of payloads) fake.history.record(payload);

    let acknowledged = 0;
    let killed: Promise<void> | undefined;
    const deliveries = await sendBurst(payloads, {
      baseUrl: first.url,
      concurrency: 32,
      // Five retries 20, 40, 80, 160 and 320 ms after a failure: all spent while the gateway is down.
      retryDelayMs: 20,
      timeoutMs: 2_000,
      dispatcher: agent,
      onDelivered: (delivery) => {
        if (delivery.acknowledged) acknowledged++;
        if (acknowledged === KILL_AFTER_ACKNOWLEDGED && !killed) killed = first.kill();
      },
    });
    expect(killed, 'the burst ended before the kill').toBeDefined();
    await killed;
    const gaveUp = deliveries.filter((delivery) => !delivery.acknowledged).length;
    expect(gaveUp, 'the outage should outlast the provider retries').toBeGreaterThan(0);

    const restartedAt = Date.now();
    const second = await startGateway({ databaseUrl: database.url, port: first.port, env });
    await waitForSync(second, 3, restartedAt);
    expect(await second.stop()).toBe(0);

    const copies = await storedCopies(database.pool);
    const ids = payloads.map((payload) => payload.message_id);
    const lost = ids.filter((id) => !copies.messages.get(id) || !copies.envelopes.get(id));
    const duplicated = ids.filter(
      (id) => (copies.messages.get(id) ?? 0) > 1 || (copies.envelopes.get(id) ?? 0) > 1,
    );
    const stored = ids.filter((id) => copies.messages.get(id)).length;

    await recordScenario({
      id: 'down-beyond-retries-then-sync',
      scenario: `gateway killed after ${KILL_AFTER_ACKNOWLEDGED} of ${BURST} webhooks and kept down past the provider's five retries; restarted, its startup sync reads the provider's REST history`,
      sent: BURST,
      acknowledged: BURST - gaveUp,
      stored,
      delivered: null,
      lost: lost.length,
      duplicated: duplicated.length,
      notes: `webhooks the provider gave up on: ${gaveUp}, all recovered by sync (message:new with origin "sync")`,
    });
    expect(lost, 'missing after sync').toEqual([]);
    expect(duplicated, 'stored or published twice').toEqual([]);
    expect(stored).toBe(BURST);
  });
});
