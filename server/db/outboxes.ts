import { sql } from 'drizzle-orm';
import type { Tx } from './database.js';
import { queryRows } from './rows.js';

/** NOTIFY channel whose payload is the highest committed realtime `seq` (a wake-up hint). */
export const REALTIME_CHANNEL = 'hookline_realtime';

/** NOTIFY channel that wakes outbound workers on every instance. */
export const DELIVERIES_CHANNEL = 'hookline_deliveries';

/** Advisory lock that orders the tails of concurrent ingest transactions. */
export const REALTIME_APPEND_LOCK = 0x686c7274; // "hlrt"

/** One realtime event to append for WebSocket subscribers. */
export interface RealtimeEventInput {
  accountId: string;
  /** `message:new`, `message:updated`, `message:deleted`, `chat:read`, `account:status`. */
  type: string;
  data: unknown;
}

/** One event owed to every enabled endpoint whose filters match it. */
export interface DeliveryInput {
  /** Standard Webhooks `type`, matched against an endpoint's `eventTypes`. */
  type: string;
  /** Matched against an endpoint's `accountIds`. */
  accountId: string;
  /** `webhook-id`: the same for every endpoint and every retry. */
  webhookId: string;
  /** The JSON body every matching endpoint receives. */
  payload: unknown;
}

/** What one transaction owes its outboxes: outbound deliveries and realtime events. */
export interface OutboxWrites {
  outbound?: DeliveryInput[];
  realtime?: RealtimeEventInput[];
}

/** What {@link publishToOutboxes} wrote, for the in-process wake-up. */
export interface Published {
  /** Deliveries enqueued, across all matching endpoints. */
  deliveries: number;
  /** The highest `seq` appended, or undefined when no realtime event was. */
  realtimeSeq?: number;
}

/**
 * Writes a transaction's outboxes in one round trip (the `hookline_publish_envelopes` function,
 * migration 0002): one pending delivery per (event, enabled endpoint that wants it), then the
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

/** The JSON rows `hookline_publish_envelopes` takes (migration 0002). */
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
