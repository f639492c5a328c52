/**
 * `npm run bench:send`: replies through the gateway against the fake provider on real Postgres
 * (BENCH_DATABASE_URL), beside a bare undici multipart POST loop to the same fake, in one run.
 *
 * The gateway runs in a process of its own (`test/bench/ingest-target.ts hookline`); this process
 * is the fake provider (which answers 201 and echoes every message back as a webhook) and the
 * client. The gateway figure is sends accepted (202), stored, sent, settled as `sent` and their
 * echoes ingested as the same message, per second, from the first request to the last `sent`.
 *
 * Options: --sends 2000 --concurrency 32
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { Agent, FormData, request } from 'undici';
import { openDatabase } from '../../server/db/database.js';
import { queryRows } from '../../server/db/rows.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { apiAuth, TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { registerAtFake } from '../support/webhooks.js';
import { startChildServer } from './support/child-server.js';
import { cpuMeter } from './support/cpu.js';
import { BENCH_DATABASE_URL } from './support/database-url.js';
import { writeBenchResult } from './support/result.js';

const { values } = parseArgs({
  options: {
    sends: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    /** Also write the result as JSON to this file (support/result.ts). */
    json: { type: 'string' },
  },
});
const SENDS = Number(values.sends);
const CONCURRENCY = Number(values.concurrency);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task(i)` for i in [0, n) with `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Sends per second of a bare undici multipart POST loop straight to the fake provider. */
async function bareLoop(providerUrl: string, apiKey: string, chatId: string, accountId: string) {
  const agent = new Agent({ connections: CONCURRENCY });
  const started = performance.now();
  await pool(SENDS, CONCURRENCY, async (index) => {
    const form = new FormData();
    form.append('text', `bare ${index}`);
    form.append('account_id', accountId);
    const response = await request(`${providerUrl}/api/v1/chats/${chatId}/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'x-api-key': apiKey },
      body: form,
    });
    await response.body.dump();
    if (response.statusCode !== 201) throw new Error(`bare send answered ${response.statusCode}`);
  });
  const rate = SENDS / ((performance.now() - started) / 1000);
  await agent.close();
  return rate;
}

async function main() {
  const created = await createPostgresTestDatabase(
    BENCH_DATABASE_URL,
    await ensurePostgresTemplate(BENCH_DATABASE_URL),
  );
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 2 });
  const fake = await startFakeUnipile({ delivery: { retries: 0 } });
  const gateway = await startChildServer('test/bench/ingest-target.ts', ['hookline', created.url], {
    UNIPILE_DSN: fake.url,
    UNIPILE_API_KEY: fake.apiKey,
    SEND_CONCURRENCY: String(CONCURRENCY),
    SEND_POLL_INTERVAL_MS: '200',
    // The benchmark measures throughput, not the budgets that protect a provider account.
    SEND_ACCOUNT_RATE_PER_MINUTE: '1000000',
    SEND_MAX_PENDING_PER_ACCOUNT: '10000000',
  });
  try {
    registerAtFake(fake, gateway.url);
    const account = fakeAccount();
    const opening = messageReceived({ account });
    const opened = await request(`${gateway.url}${UNIPILE_WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'unipile-auth': TEST_SECRETS.inboundSecret, 'content-type': 'application/json' },
      body: JSON.stringify(opening),
    });
    await opened.body.dump();
    const chatId = opening.chat_id;

    const processes = { bench: process.pid, gateway: gateway.child.pid ?? 0 };
    fake.sends.setEcho(false);
    const bareCpu = cpuMeter(processes);
    const bare = await bareLoop(fake.url, fake.apiKey, `bare_${randomUUID()}`, account.id);
    const bareSpent = bareCpu.stop();
    fake.sends.setEcho(true, 50);
    const gatewayCpu = cpuMeter(processes);

    const agent = new Agent({ connections: CONCURRENCY });
    const started = performance.now();
    await pool(SENDS, CONCURRENCY, async (index) => {
      const response = await request(`${gateway.url}/api/chats/${chatId}/messages`, {
        method: 'POST',
        dispatcher: agent,
        headers: { ...apiAuth, 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: account.id, text: `reply ${index}` }),
      });
      await response.body.dump();
      if (response.statusCode !== 202) throw new Error(`gateway send answered ${response.statusCode}`);
    });
    const count = async (query: ReturnType<typeof sql>) =>
      Number((await queryRows<{ n: string }>(database.db, query))[0]?.n ?? 0);
    while ((await count(sql`select count(*) as n from sends where status = 'sent'`)) < SENDS) await sleep(10);
    const gatewayRate = SENDS / ((performance.now() - started) / 1000);
    await agent.close();

    // Every echo ingested: each reply is one message, never two.
    const echoes = () => count(sql`select count(*) as n from inbound_events where raw_body like '%"reply %'`);
    while ((await echoes()) < SENDS) await sleep(50);
    const gatewaySpent = gatewayCpu.stop();
    const messages = await count(
      sql`select count(*) as n from messages where chat_id = ${chatId} and text like 'reply %'`,
    );
    const settled = await queryRows<{ settled_by: string; n: string }>(
      database.db,
      sql`select settled_by, count(*) as n from sends group by settled_by order by settled_by`,
    );

    console.log(`bench:send  sends=${SENDS} concurrency=${CONCURRENCY}`);
    console.log(`  bare undici multipart POST loop to the fake provider: ${bare.toFixed(0)} sends/s`);
    console.log(
      `  through the gateway, settled as sent:                 ${gatewayRate.toFixed(0)} sends/s ` +
        `(${((100 * gatewayRate) / bare).toFixed(0)}% of the bare loop; target 25%)`,
    );
    console.log(
      `  messages stored for ${SENDS} replies after ${SENDS} echoes: ${messages}; settled by ${settled
        .map((row) => `${row.settled_by}=${row.n}`)
        .join(', ')}`,
    );
    const perSend = (spent: Record<string, number>) =>
      Object.entries(spent)
        .map(([name, ms]) => `${name} ${((1000 * ms) / SENDS).toFixed(0)}`)
        .join(', ');
    console.log(`  CPU µs per send, bare loop: ${perSend(bareSpent)}`);
    console.log(`  CPU µs per send, through the gateway (echoes included): ${perSend(gatewaySpent)}`);
    writeBenchResult(
      {
        bench: 'send',
        command: `npm run bench:send -- --sends ${SENDS} --concurrency ${CONCURRENCY}`,
        markdown: [
          '| path | sends/s | CPU µs per send |',
          '| --- | ---: | --- |',
          `| bare undici multipart POST loop to the fake provider | ${bare.toFixed(0)} | ${perSend(bareSpent)} |`,
          `| through the gateway, settled as \`sent\` (echoes included) | ${gatewayRate.toFixed(0)} | ${perSend(gatewaySpent)} |`,
          '',
          `gateway / bare loop: ${((100 * gatewayRate) / bare).toFixed(0)}% (target 25%); messages stored for ${SENDS} replies after ${SENDS} echoes: ${messages}; settled by ${settled.map((row) => `${row.settled_by}=${row.n}`).join(', ')}`,
        ],
        figures: {
          'bare sends/s': Math.round(bare),
          'gateway sends/s': Math.round(gatewayRate),
          'gateway / bare %': Math.round((100 * gatewayRate) / bare),
        },
      },
      values.json,
    );
  } finally {
    await gateway.stop();
    await fake.close();
    await database.close();
    await created.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
