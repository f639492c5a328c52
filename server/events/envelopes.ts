import type { Tx } from '../db/database.js';
import {
  type DeliveryInput,
  type OutboxWrites,
  type Published,
  publishToOutboxes,
  type RealtimeEventInput,
} from '../db/outboxes.js';
import { newWebhookId } from '../shared/ids.js';
import type { OutboundData, RealtimeData } from './data.js';
import { EVENT_TYPES, type OutboundType, type RealtimeType } from './names.js';

/** What a publication wrote: deliveries enqueued and the highest realtime `seq`. */
export type { Published };
/** `webhook-id` of a new event (server/shared/ids.ts); features mint webhook ids through this module. */
export { newWebhookId };

/** One event for subscribers, before it is matched to endpoints. */
export interface OutboundEvent<T extends OutboundType = OutboundType> {
  /** Standard Webhooks `type`: `message.received`, `message.updated`, … */
  type: T;
  /** The account the event belongs to, for endpoints filtered by account. */
  accountId: string;
  /** `webhook-id`: one per event, the same for every endpoint and every retry. */
  webhookId: string;
  /** ISO 8601 time of the event. */
  timestamp: string;
  data: OutboundData[T];
}

/** The Standard Webhooks body every endpoint receives for an event. */
export function webhookBody<T extends OutboundType>(type: T, data: OutboundData[T], timestamp = new Date()) {
  return { type, timestamp: timestamp.toISOString(), data };
}

/** A new outbound event: its own `webhook-id`, timed now. */
export function outboundEvent<T extends OutboundType>(
  type: T,
  accountId: string,
  data: OutboundData[T],
): OutboundEvent<T> {
  return { type, accountId, webhookId: newWebhookId(), timestamp: new Date().toISOString(), data };
}

/**
 * The outbox rows for events: each is enqueued once per enabled endpoint that wants it, inside
 * the transaction that produced it (see publishToOutboxes), so an event is owed to subscribers
 * exactly when it is committed. The payload is the Standard Webhooks body endpoints receive.
 */
export function outboundDeliveries(events: readonly OutboundEvent[]): DeliveryInput[] {
  return events.map((event) => ({
    type: event.type,
    accountId: event.accountId,
    webhookId: event.webhookId,
    payload: { type: event.type, timestamp: event.timestamp, data: event.data },
  }));
}

/**
 * Collects what one transaction owes to WebSocket clients and to subscriber endpoints; both are
 * written in that same transaction (outbox pattern) by publishEnvelopes.
 */
export class Envelopes {
  readonly realtime: RealtimeEventInput[] = [];
  readonly outbound: OutboundEvent[] = [];

  /** A change for both: the realtime envelope and its outbound twin (EVENT_TYPES), same `data`. */
  add<T extends RealtimeType>(type: T, accountId: string, data: RealtimeData[T]): void {
    this.addRealtime(type, accountId, data);
    this.outbound.push(
      outboundEvent(EVENT_TYPES[type], accountId, data as OutboundData[(typeof EVENT_TYPES)[T]]),
    );
  }

  /** A realtime envelope with no outbound twin (a send's status change, for instance). */
  addRealtime<T extends RealtimeType>(type: T, accountId: string, data: RealtimeData[T]): void {
    this.realtime.push({ accountId, type, data });
  }

  /** An outbound event with no realtime envelope (`message.sent`, for instance). */
  addOutbound<T extends OutboundType>(type: T, accountId: string, data: OutboundData[T]): void {
    this.outbound.push(outboundEvent(type, accountId, data));
  }
}

/**
 * Writes a transaction's envelopes to both outboxes in one statement, which must be the
 * transaction's last (see publishToOutboxes). Send and chats publish through it until they move to
 * outbound's `publish`, the one door ingest and sync use.
 * @param built outbox rows a SQL function built in the same transaction, published after the
 * envelopes. Default none.
 */
export function publishEnvelopes(tx: Tx, envelopes: Envelopes, built: OutboxWrites = {}): Promise<Published> {
  return publishToOutboxes(tx, {
    outbound: [...outboundDeliveries(envelopes.outbound), ...(built.outbound ?? [])],
    realtime: [...envelopes.realtime, ...(built.realtime ?? [])],
  });
}
