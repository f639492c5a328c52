import { sql } from 'drizzle-orm';
import { realtimeEvents } from '../../drizzle/schema.js';
import type { Tx } from './database.js';
import { unnestRows } from './unnest-rows.js';

/** NOTIFY channel whose payload is the highest committed realtime `seq` (a wake-up hint). */
export const REALTIME_CHANNEL = 'hookline_realtime';

/** Advisory lock that orders the tails of concurrent ingest transactions. */
export const REALTIME_APPEND_LOCK = 0x686c7274; // "hlrt"

export interface RealtimeEventInput {
  accountId: string;
  /** `message:new`, `message:updated`, `message:deleted`, `chat:read`, `account:status`. */
  type: string;
  data: unknown;
}

/**
 * Appends envelopes to the realtime outbox and NOTIFYs once. Call it as the LAST statement of
 * the transaction: it takes a transaction-scoped advisory lock held until commit, and draws `seq`
 * only under it. A later transaction therefore cannot draw a higher `seq` before this one commits,
 * so `seq` order is commit order and a reader that has seen `seq` N can never later find a
 * committed row below N. (A rolled-back append leaves a permanent hole, which readers skip.)
 *
 * @returns the highest `seq` appended, or undefined when `events` is empty.
 */
export async function appendRealtimeEvents(
  tx: Tx,
  events: RealtimeEventInput[],
): Promise<number | undefined> {
  if (events.length === 0) return undefined;
  await tx.execute(sql`select pg_advisory_xact_lock(${REALTIME_APPEND_LOCK})`);
  const rows = await tx
    .insert(realtimeEvents)
    .select(
      unnestRows(
        realtimeEvents,
        events.map((event) => ({ accountId: event.accountId, type: event.type, data: event.data })),
        { seq: sql`nextval('realtime_seq')` },
      ),
    )
    .returning({ seq: realtimeEvents.seq });
  const lastSeq = Math.max(...rows.map((row) => Number(row.seq)));
  await tx.execute(sql`select pg_notify(${REALTIME_CHANNEL}, ${String(lastSeq)})`);
  return lastSeq;
}
