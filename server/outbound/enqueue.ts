import type { DeliveryInput } from '../db/outboxes.js';

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
 * The outbox rows for events: each is enqueued once per enabled endpoint that wants it, inside
 * the transaction that produced it (see publishToOutboxes), so an event is owed to subscribers
 * exactly when it is committed. The payload is the Standard Webhooks body endpoints receive.
 */
export function outboundDeliveries(events: OutboundEvent[]): DeliveryInput[] {
  return events.map((event) => ({
    type: event.type,
    accountId: event.accountId,
    webhookId: event.webhookId,
    payload: { type: event.type, timestamp: event.timestamp, data: event.data },
  }));
}
