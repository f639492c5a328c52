import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../server/db/database.js';
import { EmbeddedCluster } from '../../server/db/embedded/cluster.js';
import { EMBEDDED_DATABASE_NAME, embeddedClusterDirectory } from '../../server/db/embedded/open.js';
import { queryRows } from '../../server/db/rows.js';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { type ChildServer, startChildServer } from './support/child-server.js';
import { BENCH_DATABASE_URL } from './support/database-url.js';
import { type LoadResult, poolLoads, runLoad } from './support/load.js';
import { writeBenchResult } from './support/result.js';

/**
 * `npm run bench:ingest`: accepted webhooks/s and latency of Hookline's ingest against real
 * Postgres, beside a bare fastify route (the ceiling), a naive one-INSERT-per-request handler, a
 * batched one (one INSERT per group commit, same table) and the typical receiver's design (one
 * transaction per request: look up the message, insert it, upsert its chat, bump its unread
 * count), all measured in the same run with the
 * same unique payloads, 50 connections, 10 s each after a warm-up, taken in turns (see main).
 * Afterwards the stored rows are counted: every acknowledged webhook must be stored once.
 */
const serverUrl = BENCH_DATABASE_URL;
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 3);
/** Turns each target's measured time is split into (see main). */
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * BENCH_ONLY=hookline measures one target (while tuning); BENCH_ONLY=batched,hookline a few of
 * them, by mode, comma-separated. The ratios need the targets they compare.
 */
const only = process.env.BENCH_ONLY?.split(',');
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
  table: NonNullable<Target['table']>,
): Promise<Map<string, number>> {
  const database = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    const rows = await queryRows<{ id: string; n: number }>(
      database.db,
      table === 'naive_webhooks'
        ? sql`select body->>'message_id' as id, count(*)::int as n from naive_webhooks group by 1`
        : sql`select id, count(*)::int as n from ${sql.identifier(table)} group by id`,
    );
    return new Map(rows.map((row) => [row.id, row.n]));
  } finally {
    await database.close();
  }
}

/** A target's server, started once and loaded in every round. */
interface Target {
  name: string;
  mode: string;
  table?: 'messages' | 'naive_webhooks' | 'per_request_messages';
  server: ChildServer;
  databaseUrl: string;
  stop(): Promise<void>;
  runs: LoadResult[];
  acknowledged: string[];
}

async function startTarget(name: string, mode: string, table?: Target['table']): Promise<Target> {
  if (mode === 'hookline-embedded') return startEmbeddedTarget(name, mode, table);
  const database = await createPostgresTestDatabase(serverUrl, await ensurePostgresTemplate(serverUrl));
  const server = await startChildServer('test/bench/ingest-target.ts', [mode, database.url]);
  const stop = async () => {
    await server.stop();
    await database.drop();
  };
  return { name, mode, table, server, databaseUrl: database.url, stop, runs: [], acknowledged: [] };
}

/** Hookline on its default database: the embedded cluster it starts in a fresh DATA_DIR. */
async function startEmbeddedTarget(name: string, mode: string, table?: Target['table']): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-bench-'));
  const server = await startChildServer('test/bench/ingest-target.ts', [mode, dataDir]);
  const databaseUrl = new EmbeddedCluster({ directory: embeddedClusterDirectory(dataDir) }).url(
    EMBEDDED_DATABASE_NAME,
  );
  const stop = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { name, mode, table, server, databaseUrl, stop, runs: [], acknowledged: [] };
}

function load(target: Target, seconds: number, measured: boolean): Promise<LoadResult> {
  return runLoad({
    url: target.server.url,
    path: UNIPILE_WEBHOOK_PATH,
    headers: { 'content-type': 'application/json', 'unipile-auth': TEST_SECRETS.inboundSecret },
    body: uniquePayload,
    connections,
    durationSeconds: seconds,
    onAcknowledged: measured ? (id) => target.acknowledged.push(id) : undefined,
  });
}

/** Acknowledged webhooks of the measured rounds missing from the store, and stored more than once. */
async function verify(target: Target): Promise<{ lost: number; doubled: number } | undefined> {
  if (!target.table) return undefined;
  const stored = await storedMessageIds(target.databaseUrl, target.table);
  return {
    lost: target.acknowledged.filter((id) => !stored.has(id)).length,
    doubled: target.acknowledged.filter((id) => (stored.get(id) ?? 0) > 1).length,
  };
}

/**
 * Every target is started and warmed up, then loaded in turns: `rounds` slices of
 * `durationSeconds / rounds` each, the first target moving one place on every round. This VM's
 * speed drifts by up to 2x within minutes; measured one after the other, the targets were each
 * measured on a different machine, and their ratios with them. In turns, a slow spell falls on
 * all of them alike.
 */
async function main(): Promise<void> {
  const wanted = [
    ['bare fastify, no storage (ceiling)', 'bare', undefined],
    ['naive: one INSERT per request, one table', 'naive', 'naive_webhooks'],
    ['batched: one INSERT per group commit, one table', 'batched', 'naive_webhooks'],
    [
      'per-request: look up, insert, upsert chat, bump unread, one transaction per request',
      'per-request',
      'per_request_messages',
    ],
    ['Hookline ingest', 'hookline', 'messages'],
    ['Hookline ingest, embedded Postgres (no DATABASE_URL)', 'hookline-embedded', 'messages'],
  ] as const;
  const targets: Target[] = [];
  try {
    for (const [name, mode, table] of wanted)
      if (!only || only.includes(mode)) targets.push(await startTarget(name, mode, table));
    for (const target of targets) await load(target, warmupSeconds, false);
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < targets.length; turn++) {
        const target = targets[(round + turn) % targets.length]!;
        target.runs.push(await load(target, durationSeconds / rounds, true));
      }
    }
    const rows = await Promise.all(
      targets.map(async (target) => ({
        mode: target.mode,
        name: target.name,
        ...poolLoads(target.runs),
        ...(await verify(target)),
      })),
    );
    const [bare, naive, batched, perRequest, hookline, embedded] = [
      'bare',
      'naive',
      'batched',
      'per-request',
      'hookline',
      'hookline-embedded',
    ].map((mode) => rows.find((row) => row.mode === mode));
    const lines = [
      `Command: npm run bench:ingest (${connections} connections, ${durationSeconds} s per target in ${rounds} rounds after ${warmupSeconds} s warm-up, unique payloads, Postgres ${serverUrl.replace(/\/\/[^@]*@/, '//')})`,
      '',
      '| target | accepted/s | p50 ms | p99 ms | 2xx | non-2xx | errors | acknowledged but lost | stored twice |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (row) =>
          `| ${row.name} | ${Math.round(row.perSecond)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.ok} | ${row.non2xx} | ${row.errors} | ${row.lost ?? '—'} | ${row.doubled ?? '—'} |`,
      ),
    ];
    if (bare && naive && hookline)
      lines.push(
        '',
        `Hookline / naive: ${(hookline.perSecond / naive.perSecond).toFixed(2)}x; Hookline / bare: ${((100 * hookline.perSecond) / bare.perSecond).toFixed(1)}%`,
      );
    if (naive && batched) lines.push(`batched / naive: ${(batched.perSecond / naive.perSecond).toFixed(2)}x`);
    if (batched && hookline)
      lines.push(`Hookline / batched: ${(hookline.perSecond / batched.perSecond).toFixed(2)}x`);
    if (perRequest && hookline)
      lines.push(
        `Hookline / per-request: ${(hookline.perSecond / perRequest.perSecond).toFixed(2)}x${batched ? `; per-request / batched: ${(perRequest.perSecond / batched.perSecond).toFixed(2)}x` : ''}`,
      );
    if (hookline && embedded)
      lines.push(
        `Hookline on embedded Postgres / on the server: ${(embedded.perSecond / hookline.perSecond).toFixed(2)}x`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
    writeBenchResult({
      bench: 'ingest',
      command: lines[0]!,
      markdown: lines.slice(2),
      figures: Object.fromEntries(
        rows.flatMap((row) => [
          [`${row.mode} accepted/s`, Math.round(row.perSecond)],
          [`${row.mode} p99 ms`, Number(row.p99.toFixed(1))],
        ]),
      ),
    });
    if ([hookline, embedded].some((row) => row && (row.lost !== 0 || row.doubled !== 0)))
      process.exitCode = 1;
  } finally {
    for (const target of targets) await target.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
