import { eq, sql } from 'drizzle-orm';
import { deliveries, endpoints } from '../../drizzle/schema.js';
import type { Tx } from '../db/database.js';

/** NOTIFY channel that wakes outbound workers on every instance. */
export const DELIVERIES_CHANNEL = 'hookline_deliveries';

/** One event for subscribers, before it is matched to endpoints. */
export interface OutboundEvent {
  /** Standard Webhooks `type`: `message.received`, `message.updated`, … */
  type: string;
  /** The account the event belongs to, for endpoints filtered by account. */
  accountId: string;
  /** `webhook-id`: one per event, the same for every endpoint and every retry. */
  webhookId: string;
  /** ISO 8601 time of the event. */
  timestamp: string;
  data: unknown;
}

/**
 * Inside the ingest transaction, adds one pending delivery per (event, enabled endpoint that
 * wants it), so an event is owed to subscribers exactly when it is committed (outbox pattern).
 *
 * @returns how many deliveries were enqueued.
 */
export async function enqueueDeliveries(tx: Tx, events: OutboundEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const subscribed = await tx
    .select({ id: endpoints.id, eventTypes: endpoints.eventTypes, accountIds: endpoints.accountIds })
    .from(endpoints)
    .where(eq(endpoints.enabled, true));
  if (subscribed.length === 0) return 0;
  const rows = events.flatMap((event) =>
    subscribed
      .filter(
        (endpoint) =>
          (!endpoint.eventTypes || endpoint.eventTypes.includes(event.type)) &&
          (!endpoint.accountIds || endpoint.accountIds.includes(event.accountId)),
      )
      .map((endpoint) => ({
        webhookId: event.webhookId,
        endpointId: endpoint.id,
        eventType: event.type,
        payload: { type: event.type, timestamp: event.timestamp, data: event.data },
        status: 'pending',
      })),
  );
  if (rows.length === 0) return 0;
  await tx.insert(deliveries).values(rows).onConflictDoNothing();
  await tx.execute(sql`select pg_notify(${DELIVERIES_CHANNEL}, ${String(rows.length)})`);
  return rows.length;
}
