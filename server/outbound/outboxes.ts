import { sql } from 'drizzle-orm';
import type { Tx } from '../db/database.js';
import { queryRows } from '../db/rows.js';
import type { OutboxWrites, Published } from '../events/index.js';
import { REALTIME_APPEND_LOCK, REALTIME_CHANNEL } from '../realtime/index.js';

/** NOTIFY channel that wakes outbound workers on every instance. */
export const DELIVERIES_CHANNEL = 'hookline_deliveries';

/**
 * Writes a transaction's outboxes in one round trip (the `hookline_publish_envelopes` function,
 * drizzle/functions/hookline_publish_envelopes.sql): one pending delivery per (event, enabled endpoint that wants it), then the
 * realtime events, each outbox NOTIFYing once.
 *
 * Call it as the LAST statement of the transaction: the realtime append takes a
 * transaction-scoped advisory lock held until commit and draws `seq` only under it. A later
 * transaction therefore cannot draw a higher `seq` before this one commits, so `seq` order is
 * commit order and a reader that has seen `seq` N can never later find a committed row below N.
 * (A rolled-back append leaves a permanent hole, which readers skip.)
 */
export async function publishToOutboxes(tx: Tx, writes: OutboxWrites): Promise<Published> {
  const rows = outboxRows(writes);
  if (rows.outbound.length === 0 && rows.realtime.length === 0) return { deliveries: 0 };
  const [row] = await queryRows<{ deliveries: number; realtime_seq: string | number | null }>(
    tx,
    sql`select deliveries, realtime_seq from hookline_publish_envelopes(
      ${JSON.stringify(rows.outbound)}::jsonb, ${JSON.stringify(rows.realtime)}::jsonb,
      ${REALTIME_APPEND_LOCK}, ${REALTIME_CHANNEL}, ${DELIVERIES_CHANNEL})`,
  );
  return published(row?.deliveries, row?.realtime_seq);
}

/** The JSON rows `hookline_publish_envelopes` takes. */
export function outboxRows(writes: OutboxWrites) {
  return {
    outbound: (writes.outbound ?? []).map((delivery) => ({
      type: delivery.type,
      account_id: delivery.accountId,
      webhook_id: delivery.webhookId,
      payload: delivery.payload,
    })),
    realtime: (writes.realtime ?? []).map((event) => ({
      account_id: event.accountId,
      type: event.type,
      data: event.data,
    })),
  };
}

/** What a publication reports, from the function's two columns (bigint may arrive as a string). */
export function published(
  deliveries: number | string | null | undefined,
  realtimeSeq: number | string | null | undefined,
): Published {
  const count = Number(deliveries ?? 0);
  return realtimeSeq == null
    ? { deliveries: count }
    : { deliveries: count, realtimeSeq: Number(realtimeSeq) };
}
