import { sql } from 'drizzle-orm';
import { openDatabase } from '../../server/db/database.js';
import { queryRows } from '../../server/db/rows.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { startChildServer } from './support/child-server.js';
import { type LoadResult, runLoad } from './support/load.js';

/**
 * `npm run bench:ingest`: accepted webhooks/s and latency of Hookline's ingest against real
 * Postgres, beside a bare fastify route (the ceiling) and a naive one-INSERT-per-request handler,
 * all measured in the same run with the same unique payloads, 50 connections, 10 s after a
 * warm-up. Afterwards the stored rows are counted: every acknowledged webhook must be stored once.
 */
const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 3);
/** BENCH_ONLY=hookline measures one target (while tuning); ratios need the full run. */
const only = process.env.BENCH_ONLY;
const PATH = '/api/webhooks/unipile/messages';
const accounts = Array.from({ length: 50 }, (_, index) => fakeAccount('WHATSAPP', `acc_bench_${index}`));
let counter = 0;

/**
 * One realistic body per account, serialised once with placeholders: filling in a fresh message
 * and chat id per request costs the load generator far less than building and serialising a
 * payload, so the generator does not cap what the targets can show.
 */
const templates = accounts.map((account) =>
  JSON.stringify(messageReceived({ account, chatId: '__CHAT__', messageId: '__MESSAGE__' })),
);

function uniquePayload(): { id: string; body: string } {
  counter++;
  const id = `msg_bench_${process.pid}_${counter}`;
  const body = templates[counter % templates.length]!.replaceAll('__MESSAGE__', id).replaceAll(
    '__CHAT__',
    `chat_bench_${counter % 500}`,
  );
  return { id, body };
}

/** Message ids stored, with how many times each: the proof that nothing acknowledged was lost or doubled. */
async function storedMessageIds(
  url: string,
  table: 'messages' | 'naive_webhooks',
): Promise<Map<string, number>> {
  const database = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    const rows = await queryRows<{ id: string; n: number }>(
      database.db,
      table === 'messages'
        ? sql`select id, count(*)::int as n from messages group by id`
        : sql`select body->>'message_id' as id, count(*)::int as n from naive_webhooks group by 1`,
    );
    return new Map(rows.map((row) => [row.id, row.n]));
  } finally {
    await database.close();
  }
}

interface Measured extends LoadResult {
  name: string;
  /** Acknowledged (2xx) webhooks of the measured run missing from the store. */
  lost?: number;
  /** Acknowledged webhooks stored more than once. */
  doubled?: number;
}

async function measure(
  name: string,
  mode: string,
  table?: 'messages' | 'naive_webhooks',
): Promise<Measured | undefined> {
  if (only && only !== mode) return undefined;
  const database = await createPostgresTestDatabase(serverUrl, await ensurePostgresTemplate(serverUrl));
  const server = await startChildServer('test/bench/ingest-target.ts', [mode, database.url]);
  try {
    const load = { url: server.url, path: PATH, body: uniquePayload, connections };
    const headers = { 'content-type': 'application/json', 'unipile-auth': TEST_SECRETS.inboundSecret };
    await runLoad({ ...load, headers, durationSeconds: warmupSeconds });
    const acknowledged: string[] = [];
    const result = await runLoad({
      ...load,
      headers,
      durationSeconds,
      onAcknowledged: (id) => acknowledged.push(id),
    });
    if (!table) return { name, ...result };
    const stored = await storedMessageIds(database.url, table);
    const lost = acknowledged.filter((id) => !stored.has(id)).length;
    const doubled = acknowledged.filter((id) => (stored.get(id) ?? 0) > 1).length;
    return { name, ...result, lost, doubled };
  } finally {
    await server.stop();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const bare = await measure('bare fastify, no storage (ceiling)', 'bare');
  const naive = await measure('naive: one INSERT per request, one table', 'naive', 'naive_webhooks');
  const hookline = await measure('Hookline ingest', 'hookline', 'messages');
  const rows = [bare, naive, hookline].filter((row) => row !== undefined);
  const lines = [
    `Command: npm run bench:ingest (${connections} connections, ${durationSeconds} s after ${warmupSeconds} s warm-up, unique payloads, Postgres ${serverUrl.replace(/\/\/[^@]*@/, '//')})`,
    '',
    '| target | accepted/s | p50 ms | p99 ms | 2xx | non-2xx | errors | acknowledged but lost | stored twice |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${Math.round(row.perSecond)} | ${row.p50} | ${row.p99} | ${row.ok} | ${row.non2xx} | ${row.errors} | ${row.lost ?? '—'} | ${row.doubled ?? '—'} |`,
    ),
  ];
  if (bare && naive && hookline)
    lines.push(
      '',
      `Hookline / naive: ${(hookline.perSecond / naive.perSecond).toFixed(2)}x; Hookline / bare: ${((100 * hookline.perSecond) / bare.perSecond).toFixed(1)}%`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (hookline && (hookline.lost !== 0 || hookline.doubled !== 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
