import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { describePostgres } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { type ChaosDatabase, createChaosDatabase } from './support/chaos-database.js';
import {
  apiHeaders,
  CHAOS_SECRETS,
  deliverWebhook,
  killAllGateways,
  printGatewayLogsOnFailure,
  startGateway,
  WEBHOOK_PATH,
} from './support/gateway-process.js';
import { recordScenario } from './support/results.js';

const REPLIES = 20;

describePostgres('a gateway killed between the provider’s 201 and its commit', () => {
  let database: ChaosDatabase | undefined;
  let fake: FakeUnipile | undefined;
  afterAll(async () => {
    await killAllGateways();
    await fake?.close();
    await database?.dispose();
  });

  it('shows each reply exactly once, sent once at the provider', async () => {
    printGatewayLogsOnFailure();
    database = await createChaosDatabase();
    fake = await startFakeUnipile({ delivery: { retryDelayMs: 300, retries: 8 } });
    const env = {
      UNIPILE_DSN: fake.url,
      UNIPILE_API_KEY: fake.apiKey,
      SEND_TIMEOUT_MS: '2000',
      SEND_LEASE_MS: '3000',
      SEND_LOOKUP_DELAY_MS: '500',
      SEND_POLL_INTERVAL_MS: '100',
    };
    // The replies are queued by an instance that does not send, so that the kill finds them all stored.
    const queuing = await startGateway({
      databaseUrl: database.url,
      env: { ...env, SEND_WORKER_ENABLED: 'false' },
    });
    fake.addWebhook({
      request_url: `${queuing.url}${WEBHOOK_PATH}`,
      headers: [{ key: 'Unipile-Auth', value: CHAOS_SECRETS.INBOUND_SECRET }],
    });
    const account = fakeAccount();
    const opening = messageReceived({ account });
    const opened = await deliverWebhook(queuing.url, opening);
    expect(opened.status).toBe(200);
    const texts = Array.from({ length: REPLIES }, (_, index) => `chaos reply ${index}`);
    let acknowledged = 0;
    for (const text of texts) {
      const response = await fetch(`${queuing.url}/api/chats/${opening.chat_id}/messages`, {
        method: 'POST',
        headers: apiHeaders,
        body: JSON.stringify({ accountId: account.id, text }),
      });
      if (response.status === 202) acknowledged++;
    }
    expect(await queuing.stop()).toBe(0);

    // The sending instance dies with SIGKILL as the provider writes its first 201. It may send
    // before it answers its health check, so it is known from its spawn, not from startGateway.
    let sender: ChildProcess | undefined;
    let killedAt: string | undefined;
    fake.sends.beforeAnswer((message) => {
      if (killedAt || !sender) return;
      killedAt = message.text;
      sender.kill('SIGKILL');
    });
    await startGateway({
      databaseUrl: database.url,
      port: queuing.port,
      env,
      onSpawn: (child) => {
        sender = child;
      },
    }).catch(() => undefined); // killed before its first health answer: startGateway says it exited
    await waitFor(() => killedAt, 'the kill at the first 201', { timeoutMs: 30_000 });
    fake.sends.beforeAnswer(undefined);
    const restarted = await startGateway({ databaseUrl: database.url, port: queuing.port, env });

    const sentCount = async () =>
      Number(
        (await database!.pool.query("select count(*) as n from sends where status = 'sent'")).rows[0]?.n ?? 0,
      );
    await waitFor(async () => (await sentCount()) === REPLIES, 'every reply sent', {
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    // Every echo ingested too, so that a second copy would show.
    await waitFor(
      async () =>
        Number(
          (
            await database!.pool.query(
              "select count(*) as n from inbound_events where raw_body like '%chaos reply%'",
            )
          ).rows[0]?.n ?? 0,
        ) >= REPLIES,
      'every echo ingested',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const stored = await database.pool.query<{ text: string; n: string }>(
      "select text, count(*) as n from messages where text like 'chaos reply %' group by text",
    );
    const copies = new Map(stored.rows.map((row) => [row.text, Number(row.n)]));
    const atProvider = new Map<string, number>();
    for (const message of fake.sends.sent)
      atProvider.set(message.text, (atProvider.get(message.text) ?? 0) + 1);
    const settledBy = await database.pool.query<{ settled_by: string; n: string }>(
      'select settled_by, count(*) as n from sends group by settled_by order by settled_by',
    );
    const lost = texts.filter((text) => (copies.get(text) ?? 0) === 0).length;
    const duplicated = texts.reduce((sum, text) => sum + Math.max(0, (copies.get(text) ?? 0) - 1), 0);
    const sentTwice = texts.filter((text) => (atProvider.get(text) ?? 0) > 1).length;
    expect(await restarted.stop()).toBe(0);

    await recordScenario({
      id: 'gateway-killed-mid-send',
      scenario: `gateway killed with SIGKILL as the provider wrote its first 201 (before the outcome was committed); restarted`,
      sent: REPLIES,
      acknowledged,
      stored: [...copies.values()].reduce((sum, n) => sum + n, 0),
      delivered: fake.sends.sent.length,
      lost,
      duplicated,
      notes:
        `killed at "${killedAt}"; provider requests ${fake.sends.received.length}, accepted ${fake.sends.sent.length}, ` +
        `sent twice at the provider: ${sentTwice}; settled by ${settledBy.rows.map((row) => `${row.settled_by}=${row.n}`).join(', ')}`,
    });

    expect(acknowledged).toBe(REPLIES);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(sentTwice).toBe(0);
  });
});
