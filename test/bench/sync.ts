import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../server/db/database.js';
import { queryRows } from '../../server/db/rows.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, fakeAttendee, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { startChildServer } from './support/child-server.js';
import { BENCH_DATABASE_URL } from './support/database-url.js';
import { poolLoads, runLoad } from './support/load.js';
import { writeBenchResult } from './support/result.js';

/**
 * `npm run bench:sync`: how fast catch-up sync ingests a backlog, beside webhook ingest in the same
 * run and the same gateway process. The fake provider holds BENCH_SYNC_MESSAGES (50,000) messages
 * in BENCH_SYNC_CHATS (500) chats over BENCH_SYNC_ACCOUNTS (5) accounts, none of them delivered
 * as webhooks; the gateway (the real app, `test/bench/ingest-target.ts hookline`) first takes
 * BENCH_DURATION (10) s of webhooks from 50 connections, then `POST /api/sync` catches up every
 * account. Reported: messages/s of each, the gateway's peak RSS (VmHWM), and the stored counts.
 */
const serverUrl = BENCH_DATABASE_URL;
const total = Number(process.env.BENCH_SYNC_MESSAGES ?? 50_000);
const chatCount = Number(process.env.BENCH_SYNC_CHATS ?? 500);
const accountCount = Number(process.env.BENCH_SYNC_ACCOUNTS ?? 5);
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const apiHeaders = { authorization: `Bearer ${TEST_SECRETS.apiToken}`, 'content-type': 'application/json' };

async function rssOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const fake = await startFakeUnipile();
  const accounts = Array.from({ length: accountCount }, (_, index) =>
    fakeAccount('WHATSAPP', `acc_sync_${index}`),
  );
  const start = Date.now() - 23 * 3_600_000;
  for (let index = 0; index < total; index++) {
    const chat = index % chatCount;
    const account = accounts[chat % accounts.length]!;
    fake.history.record(
      messageReceived({
        account,
        chatId: `chat_sync_${chat}`,
        messageId: `msg_sync_${index}`,
        sender: fakeAttendee('WHATSAPP', `Sender ${index % 50}`),
        timestamp: new Date(start + Math.floor((index * 22 * 3_600_000) / total)),
        text: `history ${index}`,
      }),
    );
  }
  const database = await createPostgresTestDatabase(serverUrl, await ensurePostgresTemplate(serverUrl));
  const server = await startChildServer('test/bench/ingest-target.ts', ['hookline', database.url], {
    UNIPILE_DSN: fake.url,
    UNIPILE_API_KEY: fake.apiKey,
    UNIPILE_SYNC_INTERVAL_SECONDS: '0',
    UNIPILE_SYNC_PAGE_SIZE: process.env.UNIPILE_SYNC_PAGE_SIZE ?? '250',
  });
  try {
    const idle = await rssOf(server.child.pid!);
    let counter = 0;
    const webhook = poolLoads([
      await runLoad({
        url: server.url,
        path: UNIPILE_WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'unipile-auth': TEST_SECRETS.inboundSecret },
        body: () => {
          counter++;
          const payload = messageReceived({
            messageId: `msg_hook_${counter}`,
            chatId: `chat_hook_${counter % 500}`,
          });
          return { id: payload.message_id, body: JSON.stringify(payload) };
        },
        connections: 50,
        durationSeconds,
      }),
    ]);

    const afterWebhooks = await rssOf(server.child.pid!);
    const began = Date.now();
    const started = await fetch(`${server.url}/api/sync`, {
      method: 'POST',
      headers: apiHeaders,
      body: '{}',
    });
    const { id } = (await started.json()) as { id: string };
    let peakSampled = 0;
    let progress: { status: string; newMessages: number; duplicates: number };
    for (;;) {
      progress = (await (
        await fetch(`${server.url}/api/sync/${id}`, { headers: apiHeaders })
      ).json()) as typeof progress;
      peakSampled = Math.max(peakSampled, (await rssOf(server.child.pid!)).rss);
      if (progress.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (Date.now() - began) / 1000;
    const { peak } = await rssOf(server.child.pid!);

    const counting = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 1 });
    const [stored] = await queryRows<{ messages: number; envelopes: number }>(
      counting.db,
      sql`select (select count(*)::int from messages where id like 'msg_sync_%') as messages,
        (select count(*)::int from realtime_events where type = 'message:new' and data->>'origin' = 'sync') as envelopes`,
    );
    await counting.close();

    const syncRate = total / seconds;
    const lines = [
      `Command: npm run bench:sync (${total} messages in ${chatCount} chats over ${accountCount} accounts; page size ${process.env.UNIPILE_SYNC_PAGE_SIZE ?? 250}; webhooks: 50 connections for ${durationSeconds} s; Postgres ${serverUrl.replace(/\/\/[^@]*@/, '//')})`,
      '',
      '| path | messages/s | notes |',
      '| --- | ---: | --- |',
      `| webhook ingest | ${Math.round(webhook.perSecond)} | ${webhook.ok} accepted, p50 ${webhook.p50.toFixed(1)} ms, p99 ${webhook.p99.toFixed(1)} ms |`,
      `| catch-up sync | ${Math.round(syncRate)} | ${progress.status}: ${progress.newMessages} new, ${progress.duplicates} duplicates in ${seconds.toFixed(1)} s |`,
      '',
      `sync / webhook ingest: ${((100 * syncRate) / webhook.perSecond).toFixed(0)}% (target ≥ 50%)`,
      `gateway peak RSS: ${peak.toFixed(0)} MB (VmHWM; sampled during sync: ${peakSampled.toFixed(0)} MB; target < 300 MB); RSS idle after start ${idle.rss.toFixed(0)} MB, after the webhook load ${afterWebhooks.rss.toFixed(0)} MB (peak ${afterWebhooks.peak.toFixed(0)} MB)`,
      `stored: ${stored?.messages} messages, ${stored?.envelopes} message:new envelopes with origin "sync" (expected ${total} each)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    writeBenchResult({
      bench: 'sync',
      command: lines[0]!,
      markdown: lines.slice(2),
      figures: {
        'webhook ingest messages/s': Math.round(webhook.perSecond),
        'catch-up sync messages/s': Math.round(syncRate),
        'sync / webhook ingest %': Math.round((100 * syncRate) / webhook.perSecond),
        'gateway peak RSS MB': Math.round(peak),
      },
    });
    if (stored?.messages !== total || stored?.envelopes !== total) process.exitCode = 1;
  } finally {
    await server.stop();
    await fake.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
