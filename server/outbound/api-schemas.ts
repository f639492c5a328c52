import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../events/index.js';
import { storableDatetime } from '../shared/storable.js';
import { customHeadersSchema } from './custom-headers.js';
import { retryScheduleSeconds, signatureHeaderName } from './endpoint-settings.js';
import { type HeaderMap, maskHeaders } from './header-box.js';
import type { DeliveryAttemptRow, DeliveryRow } from './queries/deliveries.js';
import type { EndpointRow } from './queries/endpoints.js';
import { SIGNATURE_SCHEMES } from './signing.js';

const eventType = z.enum(EVENT_TYPE_NAMES as [string, ...string[]]);

const endpointFields = {
  // WHATWG URL parsing silently drops tabs and newlines; refuse them and other controls instead of
  // storing a URL that differs from the one requests go to.
  url: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .max(2000)
    .refine((url) => ![...url].some((char) => char <= ' ' || char === '\u007f'), {
      error: 'URLs may not contain spaces or control characters',
    }),
  description: z.string().max(500).nullable(),
  /** Null or absent: every event type. */
  eventTypes: z.array(eventType).min(1).max(EVENT_TYPE_NAMES.length).nullable(),
  /** Null or absent: every account. */
  accountIds: z.array(z.string().min(1).max(200)).min(1).max(1000).nullable(),
  headers: customHeadersSchema,
  maxAttempts: z.number().int().min(1).max(100),
  rateLimitPerSecond: z.number().int().min(1).max(10_000).nullable(),
  enabled: z.boolean(),
  signatureScheme: z.enum(SIGNATURE_SCHEMES),
  signatureHeader: signatureHeaderName,
  /** Null: the server's OUTBOUND_RETRY_SCHEDULE. */
  retrySchedule: retryScheduleSeconds.nullable(),
};

/** `POST /api/endpoints` body: only `url` is required; unknown fields are refused. */
export const createEndpointBody = z.strictObject({
  url: endpointFields.url,
  description: endpointFields.description.optional(),
  eventTypes: endpointFields.eventTypes.optional(),
  accountIds: endpointFields.accountIds.optional(),
  headers: endpointFields.headers.optional(),
  maxAttempts: endpointFields.maxAttempts.optional(),
  rateLimitPerSecond: endpointFields.rateLimitPerSecond.optional(),
  enabled: endpointFields.enabled.optional(),
  signatureScheme: endpointFields.signatureScheme.optional(),
  signatureHeader: endpointFields.signatureHeader.optional(),
  retrySchedule: endpointFields.retrySchedule.optional(),
});

/** `PATCH /api/endpoints/:id` body: any subset of the create fields. */
export const updateEndpointBody = createEndpointBody.partial();

/** `:id` of the `/api/endpoints/:id` routes. */
export const endpointIdParams = z.object({ id: z.string().min(1).max(100) });

/** `:id` of the `/api/deliveries/:id` routes: a positive integer. */
export const deliveryIdParams = z.object({ id: z.coerce.number().int().positive() });

const limit = z.coerce.number().int().min(1).max(200).default(50);

/** `GET /api/endpoints` query: `limit` 1–200 (default 50), `cursor` the last id of the previous page. */
export const listEndpointsQuery = z.object({ cursor: z.string().max(100).optional(), limit });

/** The states of a delivery, from queued to delivered or out of attempts. */
export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed', 'dead'] as const;

/** Query of `GET /api/endpoints/:id/deliveries`: `status`, `cursor` (older ids), `limit` (default 50). */
export const listDeliveriesQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit,
});

/** `GET /api/endpoints/:id/stats` query: `since`, default 24 hours ago. */
export const statsQuery = z.object({ since: storableDatetime({ offset: true }).optional() });

/** `POST /api/endpoints/:id/recover` body: failed and dead deliveries created since `since` are re-queued. */
export const recoverBody = z.strictObject({ since: storableDatetime({ offset: true }) });

const isoDate = z.iso.datetime({ offset: true });

/** An endpoint as the API shows it: never a secret, custom header values masked. */
export const endpointResponse = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.string()).nullable(),
  accountIds: z.array(z.string()).nullable(),
  headers: z.record(z.string(), z.string()),
  maxAttempts: z.number(),
  rateLimitPerSecond: z.number().nullable(),
  enabled: z.boolean(),
  signatureScheme: z.enum(SIGNATURE_SCHEMES),
  /** The `hmac-sha256-hex` header; null under `standard-webhooks`. */
  signatureHeader: z.string().nullable(),
  /** Seconds between attempts; null means the server's OUTBOUND_RETRY_SCHEDULE. */
  retrySchedule: z.array(z.number()).nullable(),
  /** Since when the endpoint is paused; null while it is not. */
  pausedAt: isoDate.nullable(),
  disabledReason: z.string().nullable(),
  failingSince: isoDate.nullable(),
  /** Until when the previous secret still signs beside the current one, after a rotation. */
  previousSecretExpiresAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

/** The create and rotate answers: the only ones that carry the `whsec_` secret. */
export const endpointWithSecretResponse = endpointResponse.extend({
  secret: z.string().startsWith('whsec_'),
});

/** A page of endpoints; `nextCursor` is null on the last page. */
export const endpointPageResponse = z.object({
  data: z.array(endpointResponse),
  nextCursor: z.string().nullable(),
});

/** A delivery as the API shows it; `nextAttemptAt` only while one is scheduled. */
export const deliveryResponse = z.object({
  id: z.number(),
  webhookId: z.string(),
  endpointId: z.string(),
  eventType: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number(),
  nextAttemptAt: isoDate.nullable(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

/** A page of deliveries, newest first; `nextCursor` is null on the last page. */
export const deliveryPageResponse = z.object({
  data: z.array(deliveryResponse),
  nextCursor: z.number().nullable(),
});

/** One logged HTTP attempt of a delivery. */
export const attemptResponse = z.object({
  id: z.number(),
  deliveryId: z.number(),
  attemptedAt: isoDate,
  durationMs: z.number(),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  responseBodyExcerpt: z.string().nullable(),
});

/** `POST /api/endpoints/:id/test`: the test event's attempt, and its delivery as it then is. */
export const testResponse = z.object({ attempt: attemptResponse, delivery: deliveryResponse.nullable() });

/** `GET /api/endpoints/:id/stats`: an endpoint's health since `since`. */
export const statsResponse = z.object({
  since: isoDate,
  /** Share of attempts since `since` that got a 2xx; null without attempts. */
  successRate: z.number().min(0).max(1).nullable(),
  attempts: z.number(),
  succeeded: z.number(),
  latencyMs: z.object({ p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() }),
  /** Deliveries of the endpoint by status, all time. */
  deliveries: z.record(z.string(), z.number()),
  lastError: z
    .object({ at: isoDate, statusCode: z.number().nullable(), error: z.string().nullable() })
    .nullable(),
});

/** `POST /api/endpoints/:id/recover`: how many deliveries went back to the queue. */
export const recoverResponse = z.object({ requeued: z.number() });

/** `GET /api/event-types`: every outbound event type with its JSON schema and an example. */
export const eventTypesResponse = z.object({
  data: z.array(
    z.object({
      type: z.string(),
      description: z.string(),
      schema: z.record(z.string(), z.unknown()),
      example: z.object({ type: z.string(), timestamp: isoDate, data: z.record(z.string(), z.unknown()) }),
    }),
  ),
});

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** An endpoint row as the API shows it; the previous secret's expiry only while the overlap lasts. */
export function endpointView(row: EndpointRow): z.infer<typeof endpointResponse> {
  const overlapActive = row.previousSecretExpiresAt && row.previousSecretExpiresAt.getTime() > Date.now();
  return endpointResponse.parse({
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes,
    accountIds: row.accountIds,
    headers: maskHeaders(row.headers as HeaderMap),
    maxAttempts: row.maxAttempts,
    rateLimitPerSecond: row.rateLimitPerSecond,
    enabled: row.enabled,
    signatureScheme: row.signatureScheme,
    signatureHeader: row.signatureHeader,
    retrySchedule: row.retrySchedule,
    pausedAt: iso(row.pausedAt),
    disabledReason: row.disabledReason,
    failingSince: iso(row.failingSince),
    previousSecretExpiresAt: overlapActive ? iso(row.previousSecretExpiresAt) : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  });
}

/** A delivery row as the API shows it. */
export function deliveryView(row: DeliveryRow): z.infer<typeof deliveryResponse> {
  const waiting = row.status === 'pending' || row.status === 'failed';
  return deliveryResponse.parse({
    id: row.id,
    webhookId: row.webhookId,
    endpointId: row.endpointId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: waiting ? iso(row.nextAttemptAt) : null,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    deliveredAt: iso(row.deliveredAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  });
}

/** An attempt row as the API shows it. */
export function attemptView(row: DeliveryAttemptRow): z.infer<typeof attemptResponse> {
  return attemptResponse.parse({ ...row, attemptedAt: row.attemptedAt.toISOString() });
}
