import { and, asc, gt, inArray, lt, lte, max, min, sql } from 'drizzle-orm';
import { realtimeEvents } from '../../../drizzle/schema.js';
import type { Db, Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import { transaction } from '../../db/transaction.js';
import { REALTIME_APPEND_LOCK } from '../channels.js';

/** One row of the realtime outbox, as the WebSocket fan-out reads it. */
export interface RealtimeEventRow {
  seq: number;
  accountId: string;
  type: string;
  data: unknown;
  createdAt: Date;
}

const columns = {
  seq: realtimeEvents.seq,
  accountId: realtimeEvents.accountId,
  type: realtimeEvents.type,
  data: realtimeEvents.data,
  createdAt: realtimeEvents.createdAt,
};

/** Up to `limit` events of every account with `seq > afterSeq`, in `seq` order. */
export function readRealtimeEventsAfter(
  executor: Executor,
  afterSeq: number,
  limit: number,
): Promise<RealtimeEventRow[]> {
  return executor
    .select(columns)
    .from(realtimeEvents)
    .where(gt(realtimeEvents.seq, afterSeq))
    .orderBy(asc(realtimeEvents.seq))
    .limit(limit);
}

/** Up to `limit` events of `accountIds` with `seq > afterSeq`, in `seq` order. */
export function readAccountRealtimeEventsAfter(
  executor: Executor,
  accountIds: readonly string[],
  afterSeq: number,
  limit: number,
): Promise<RealtimeEventRow[]> {
  return executor
    .select(columns)
    .from(realtimeEvents)
    .where(and(gt(realtimeEvents.seq, afterSeq), inArray(realtimeEvents.accountId, [...accountIds])))
    .orderBy(asc(realtimeEvents.seq))
    .limit(limit);
}

/**
 * The highest `seq` that is committed, or 0. Taken under the append lock, so no transaction is
 * between drawing a `seq` and committing it: every `seq` at or below the answer is final (a row or
 * a rolled-back hole), which makes it a safe starting point for a reader, even when retention has
 * emptied the table.
 */
export async function readCommittedRealtimeSeq(db: Db): Promise<number> {
  return transaction(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REALTIME_APPEND_LOCK})`);
    return readDrawnRealtimeSeq(tx);
  });
}

/**
 * The highest `seq` ever drawn, committed or not (no lock): a `seq` above it was never issued by
 * this database.
 */
export async function readDrawnRealtimeSeq(executor: Executor): Promise<number> {
  const [row] = await queryRows<{ last_value: string | number; is_called: boolean }>(
    executor,
    sql`select last_value, is_called from realtime_seq`,
  );
  return row?.is_called ? Number(row.last_value) : 0;
}

/** The oldest kept `seq` (null when the table is empty): `since` below it lost events to retention. */
export async function readOldestRealtimeSeq(executor: Executor): Promise<number | null> {
  const [row] = await executor.select({ oldest: min(realtimeEvents.seq) }).from(realtimeEvents);
  return row?.oldest == null ? null : Number(row.oldest);
}

/** Which realtime events to keep: any within the age limit, and always the newest `keepCount`. */
export interface RealtimeRetention {
  /** Events created before this are pruned. */
  olderThan: Date;
  /** The newest this many events are kept whatever their age. */
  keepCount: number;
  /** Rows deleted per statement, so pruning never holds a long lock. */
  batchSize: number;
}

/**
 * Deletes one batch of events outside retention and returns how many it deleted (call again while
 * it returns `batchSize`). It cuts at a `seq`, never by age row by row, so the kept events stay one
 * contiguous window and "oldest kept seq" tells a resuming client exactly whether it missed events.
 */
export async function pruneRealtimeEventsBatch(
  executor: Executor,
  retention: RealtimeRetention,
): Promise<number> {
  const [newest] = await executor.select({ seq: max(realtimeEvents.seq) }).from(realtimeEvents);
  if (newest?.seq == null) return 0;
  const [aged] = await executor
    .select({ seq: max(realtimeEvents.seq) })
    .from(realtimeEvents)
    .where(lt(realtimeEvents.createdAt, retention.olderThan));
  const cutoff = Math.max(Number(newest.seq) - retention.keepCount, aged?.seq == null ? 0 : Number(aged.seq));
  if (cutoff <= 0) return 0;
  const batch = executor
    .select({ seq: realtimeEvents.seq })
    .from(realtimeEvents)
    .where(lte(realtimeEvents.seq, cutoff))
    .orderBy(asc(realtimeEvents.seq))
    .limit(retention.batchSize);
  const deleted = await executor
    .delete(realtimeEvents)
    .where(inArray(realtimeEvents.seq, batch))
    .returning({ seq: realtimeEvents.seq });
  return deleted.length;
}
