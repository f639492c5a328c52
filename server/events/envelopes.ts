import { newWebhookId } from '../shared/ids.js';
import type { OutboundData, RealtimeData } from './data.js';
import { EVENT_TYPES, type OutboundType, type RealtimeType } from './names.js';

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

/** What a publication wrote, for the in-process wake-up (server/outbound/publish.ts). */
export interface Published {
  /** Deliveries enqueued, across all matching endpoints. */
  deliveries: number;
  /** The highest `seq` appended, or undefined when no realtime event was. */
  realtimeSeq?: number;
}
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
 * the transaction that produced it (see server/outbound/outboxes.ts), so an event is owed to subscribers
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
 * written in that same transaction (outbox pattern) by outbound's `publish`.
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
