import pg from 'pg';
import { inject } from 'vitest';
import { requireTestDatabaseUrl } from '../../support/databases.js';
import { createPostgresTestDatabase } from '../../support/postgres-admin.js';

export interface ChaosDatabase {
  url: string;
  /** A small pool of the test's own, for counting rows; never shared with a gateway. */
  pool: pg.Pool;
  dispose(): Promise<void>;
}

/** A database of this scenario's own on TEST_DATABASE_URL, cloned from the run's migrated template. */
export async function createChaosDatabase(): Promise<ChaosDatabase> {
  const created = await createPostgresTestDatabase(requireTestDatabaseUrl(), inject('postgresTemplate'));
  return withCountingPool(created.url, created.drop);
}

/** Wraps any database URL (a private cluster's, say) with a counting pool. */
export function withCountingPool(url: string, drop: () => Promise<void> = async () => {}): ChaosDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // A counting connection cut by a Postgres restart must not end the test process.
  pool.on('error', () => {});
  return {
    url,
    pool,
    dispose: async () => {
      await pool.end().catch(() => {});
      await drop();
    },
  };
}

/** How often each message id occurs in each place a committed webhook leaves a row. */
export interface StoredCopies {
  /** `messages` rows (primary key account + id). */
  messages: Map<string, number>;
  /** Accepted `inbound_events` rows carrying the id (the raw bodies, deduped by key). */
  inbound: Map<string, number>;
  /** `message:new` envelopes in `realtime_events`: what WebSocket clients receive. */
  envelopes: Map<string, number>;
}

async function countById(pool: pg.Pool, query: string): Promise<Map<string, number>> {
  const result = await pool.query<{ id: string; n: number }>(query);
  return new Map(result.rows.map((row) => [row.id, Number(row.n)]));
}

export async function storedCopies(pool: pg.Pool): Promise<StoredCopies> {
  return {
    messages: await countById(pool, `select id, count(*)::int as n from messages group by id`),
    inbound: await countById(
      pool,
      `select raw_body::jsonb->>'message_id' as id, count(*)::int as n from inbound_events
        where status = 'accepted' and event = 'message_received' group by 1`,
    ),
    envelopes: await countById(
      pool,
      `select data->>'messageId' as id, count(*)::int as n from realtime_events
        where type = 'message:new' group by 1`,
    ),
  };
}

export interface IngestTally {
  /** Distinct sent ids with a message row. */
  stored: number;
  /** Acknowledged ids missing from any of the three places. */
  lost: string[];
  /** Ids with more than one copy in any of the three places. */
  duplicated: string[];
  /** Stored ids the provider never saw acknowledged (committed, answer lost, retries spent). */
  storedUnacknowledged: string[];
}

/** Compares what the provider saw acknowledged with what the database holds, id by id. */
export function tallyIngest(sentIds: string[], acknowledged: Set<string>, copies: StoredCopies): IngestTally {
  const tally: IngestTally = { stored: 0, lost: [], duplicated: [], storedUnacknowledged: [] };
  for (const id of sentIds) {
    const counts = [copies.messages.get(id) ?? 0, copies.inbound.get(id) ?? 0, copies.envelopes.get(id) ?? 0];
    if (counts[0]! > 0) tally.stored++;
    if (counts.some((n) => n > 1)) tally.duplicated.push(id);
    if (acknowledged.has(id) && counts.some((n) => n === 0)) tally.lost.push(id);
    if (!acknowledged.has(id) && counts[0]! > 0) tally.storedUnacknowledged.push(id);
  }
  return tally;
}
