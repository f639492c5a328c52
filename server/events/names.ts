/**
 * Every event type Hookline emits, in one list: the realtime envelope types sockets receive, the
 * Standard Webhooks types subscribers receive, and which realtime type each outbound type mirrors.
 * The catalog (catalog.ts), the envelope builders (envelopes.ts) and the client's wire types
 * (client/types.ts, tested against data.ts) all derive from or are checked against these.
 */

/** The realtime envelope type and the outbound (Standard Webhooks) type of each change. */
export const EVENT_TYPES = {
  'message:new': 'message.received',
  'message:updated': 'message.updated',
  'message:deleted': 'message.deleted',
  'chat:read': 'chat.read',
  'account:status': 'account.status',
} as const;

/** A realtime envelope `type` (docs/realtime.md). */
export type RealtimeType = keyof typeof EVENT_TYPES;

/** Outbound types with no realtime twin: about sends, endpoints and deliveries. */
export const OUTBOUND_ONLY_TYPES = [
  'message.sent',
  'endpoint.test',
  'endpoint.disabled',
  'delivery.exhausted',
] as const;

/**
 * The operational event types: about Hookline's own delivery, sent only to endpoints that list
 * them, and never reported as exhausted themselves.
 */
export const OPERATIONAL_EVENT_TYPES = [
  'endpoint.disabled',
  'delivery.exhausted',
] as const satisfies readonly (typeof OUTBOUND_ONLY_TYPES)[number][];

/**
 * A Standard Webhooks `type` a subscriber can receive (docs/webhooks.md): the mirror of a realtime
 * type, or an outbound-only one. The catalog is a record over this union, so a type without a
 * catalog entry does not compile.
 */
export type OutboundType = (typeof EVENT_TYPES)[RealtimeType] | (typeof OUTBOUND_ONLY_TYPES)[number];
