/**
 * `npm run bench:search`: `GET /api/search` over 1,000,000 messages on real Postgres
 * (BENCH_DATABASE_URL), end to end through the gateway's HTTP route, one query at a time.
 *
 * The messages are written straight into the read model (as ingest leaves them): 2,000 chats in 5
 * accounts, 6 to 20 words each drawn from a 20,000-word vocabulary with a Zipf-like skew (word k
 * about as frequent as 1/k), so a query word may match a handful of messages or a large share of
 * them. Queries are timed by how many messages their word matches: the p50/p99 of a typical word
 * (the headline figure), and of the rare and the very common ones. Then the same for a browser's
 * token scoped to one account. Words in 10,000 messages or more get a sixth of the queries.
 *
 * Options: --messages 1000000 --queries 300
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { openDatabase } from '../../server/db/database.js';
import { queryRows } from '../../server/db/rows.js';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { apiAuth, buildTestApp, TEST_SECRETS } from '../support/app.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../support/postgres-admin.js';
import { BENCH_DATABASE_URL } from './support/database-url.js';
import { percentile } from './support/percentile.js';
import { writeBenchResult } from './support/result.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '300' },
    /** Also write the result as JSON to this file (support/result.ts). */
    json: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const QUERIES = Number(values.queries);
const VOCABULARY = 20_000;
const ACCOUNTS = 5;
const CHATS = 2_000;

/** Word `k` of the made-up vocabulary: seven letters, distinct, stable across runs. */
const WORD_SQL = sql`translate(substr(md5(k::text), 1, 7), '0123456789', 'ghijklmnop')`;

async function seed(database: Awaited<ReturnType<typeof openDatabase>>): Promise<void> {
  const started = performance.now();
  await database.db.execute(sql`drop index if exists messages_search_idx`);
  await database.db.execute(sql`create temporary table words as
    select k, ${WORD_SQL} as word from generate_series(1, ${VOCABULARY}::int) k`);
  await database.db.execute(sql`alter table words add primary key (k)`);
  const batch = 100_000;
  for (let from = 1; from <= MESSAGES; from += batch) {
    const to = Math.min(MESSAGES, from + batch - 1);
    // Zipf-like: a word's rank is floor(V^u) for u uniform in [0, 1), so word k is about as likely as 1/k.
    await database.db.execute(sql`
      insert into messages (account_id, id, chat_id, state, text, sender, is_sender, sent_at)
      select 'acc_' || (n % ${ACCOUNTS}::int), 'msg_' || n, 'chat_' || (n % ${CHATS}::int), 'received',
        string_agg(w.word, ' '), jsonb_build_object('name', 'Person ' || (n % ${CHATS}::int)), n % 3 = 0,
        '2025-01-01'::timestamptz + n * interval '10 seconds'
      from (
        select n, greatest(1, floor(power(${VOCABULARY}::float, random()))::int) as k
        from generate_series(${from}::int, ${to}::int) n, generate_series(1, 6 + n % 15) g
      ) picked
      join words w using (k)
      group by n`);
    process.stdout.write(`\r  seeded ${to} messages`);
  }
  await database.db.execute(sql`
    insert into chats (account_id, id, attendees, last_message_at, unread_count)
    select 'acc_' || (c % ${ACCOUNTS}::int), 'chat_' || c, jsonb_build_array(jsonb_build_object('name', 'Person ' || c)),
      now(), 0 from generate_series(0, ${CHATS - 1}::int) c`);
  await database.db.execute(sql`create index messages_search_idx on messages using gin (search_vector)`);
  await database.db.execute(sql`analyze messages`);
  await database.db.execute(sql`analyze chats`);
  console.log(`\n  seeded and indexed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** Words of the vocabulary by how many messages hold them (from Postgres' own statistics). */
async function wordsByMatches(database: Awaited<ReturnType<typeof openDatabase>>) {
  const rows = await queryRows<{ word: string; ndoc: number }>(
    database.db,
    sql`select word, ndoc from ts_stat('select search_vector from messages') order by ndoc desc`,
  );
  const band = (min: number, max: number) => rows.filter((row) => row.ndoc >= min && row.ndoc < max);
  return {
    rare: band(1, 100),
    typical: band(100, 10_000),
    common: band(10_000, 100_000),
    veryCommon: band(100_000, Number.POSITIVE_INFINITY),
  };
}

async function timeQueries(
  baseUrl: string,
  authorization: string,
  words: { word: string }[],
  agent: Agent,
  count: number,
) {
  const times: number[] = [];
  for (let index = 0; index < count && words.length > 0; index++) {
    const word = words[(index * 7919) % words.length]!.word;
    const started = performance.now();
    const response = await request(`${baseUrl}/api/search?q=${encodeURIComponent(word)}`, {
      dispatcher: agent,
      headers: { authorization },
    });
    const body = (await response.body.json()) as { items?: unknown[] };
    times.push(performance.now() - started);
    if (response.statusCode !== 200 || !body.items) throw new Error(`search answered ${response.statusCode}`);
  }
  return times.sort((a, b) => a - b);
}

async function main() {
  const created = await createPostgresTestDatabase(
    BENCH_DATABASE_URL,
    await ensurePostgresTemplate(BENCH_DATABASE_URL),
  );
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 4 });
  const app = await buildTestApp(database);
  const agent = new Agent({ connections: 1 });
  try {
    console.log(`bench:search: ${MESSAGES} messages, up to ${QUERIES} queries per band, one at a time`);
    await seed(database);
    const bands = await wordsByMatches(database);
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, ['acc_1'], 3600);
    const table = [
      '| token | band | words | matches | queries | p50 ms | p99 ms | max ms |',
      '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |',
    ];
    const figures: Record<string, number> = {};
    for (const [label, authorization] of [
      ['API token (all accounts)', apiAuth.authorization],
      ['connection token (1 of 5 accounts)', `Bearer ${token}`],
    ] as const) {
      console.log(`  ${label}:`);
      for (const [band, words] of Object.entries(bands)) {
        if (words.length === 0) continue;
        // Words in 10,000 messages or more take long enough that a sixth of the queries tells.
        const count = band === 'rare' || band === 'typical' ? QUERIES : Math.ceil(QUERIES / 6);
        const times = await timeQueries(baseUrl, authorization, words, agent, count);
        const matches = `${words.at(-1)!.ndoc}-${words[0]!.ndoc} matches`;
        console.log(
          `    ${band.padEnd(10)} (${words.length} words, ${matches}, ${count} queries): p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`,
        );
        table.push(
          `| ${label} | ${band} | ${words.length} | ${matches} | ${count} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.99).toFixed(1)} | ${times.at(-1)!.toFixed(1)} |`,
        );
        figures[`${label}, ${band}: p99 ms`] = Number(percentile(times, 0.99).toFixed(1));
      }
    }
    writeBenchResult(
      {
        bench: 'search',
        command: `npm run bench:search -- --messages ${MESSAGES} --queries ${QUERIES}`,
        markdown: table,
        figures,
      },
      values.json,
    );
  } finally {
    await agent.close();
    await app.close();
    await database.close();
    await created.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
