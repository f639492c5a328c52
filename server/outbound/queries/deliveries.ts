import { sql } from 'drizzle-orm';
import { deliveries, type deliveryAttempts } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import type { EndpointRow } from './endpoints.js';

/** A row of `deliveries`: one event owed to one endpoint. */
export type DeliveryRow = typeof deliveries.$inferSelect;
/** A row of `delivery_attempts`: the log of one HTTP request made for a delivery. */
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;

/** What sending to an endpoint needs, read with the claim so a send costs no extra query. */
export interface DeliveryTarget {
  url: string;
  headers: Record<string, string>;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  maxAttempts: number;
  /** Whether the endpoint's failing clock runs (a success must then stop it). */
  failing: boolean;
  /** `standard-webhooks` or `hmac-sha256-hex`. */
  signatureScheme: string;
  /** The `hmac-sha256-hex` header name; null under `standard-webhooks`. */
  signatureHeader: string | null;
  /** Seconds between attempts; null means the server's OUTBOUND_RETRY_SCHEDULE. */
  retrySchedule: number[] | null;
}

/** What sending to `endpoint` needs, from its row (the claim reads the same from its join). */
export function endpointTarget(endpoint: EndpointRow): DeliveryTarget {
  return {
    url: endpoint.url,
    headers: endpoint.headers as Record<string, string>,
    secretEncrypted: endpoint.secretEncrypted,
    previousSecretEncrypted: endpoint.previousSecretEncrypted,
    previousSecretExpiresAt: endpoint.previousSecretExpiresAt,
    maxAttempts: endpoint.maxAttempts,
    failing: endpoint.failingSince !== null,
    signatureScheme: endpoint.signatureScheme,
    signatureHeader: endpoint.signatureHeader,
    retrySchedule: endpoint.retrySchedule,
  };
}

/** A delivery a worker now owns until its lease expires. */
export interface ClaimedDelivery {
  id: number;
  webhookId: string;
  endpointId: string;
  /** The event type, for the `delivery.exhausted` event when the attempts run out. */
  eventType: string;
  payload: unknown;
  /** This attempt's number (1-based): the claim counts it. */
  attempts: number;
  target: DeliveryTarget;
}

type ClaimedRow = Omit<ClaimedDelivery, 'target'> &
  Omit<DeliveryTarget, 'previousSecretExpiresAt'> & {
    previousSecretExpiresAt: Date | string | null;
  };

function toClaimed(row: ClaimedRow): ClaimedDelivery {
  return {
    id: Number(row.id),
    webhookId: row.webhookId,
    endpointId: row.endpointId,
    eventType: row.eventType,
    payload: row.payload,
    attempts: Number(row.attempts),
    target: {
      url: row.url,
      headers: row.headers ?? {},
      secretEncrypted: row.secretEncrypted,
      previousSecretEncrypted: row.previousSecretEncrypted,
      previousSecretExpiresAt:
        row.previousSecretExpiresAt === null ? null : new Date(row.previousSecretExpiresAt),
      maxAttempts: Number(row.maxAttempts),
      failing: Boolean(row.failing),
      signatureScheme: row.signatureScheme,
      signatureHeader: row.signatureHeader,
      retrySchedule: row.retrySchedule?.map(Number) ?? null,
    },
  };
}

/** Statuses a worker may claim once `next_attempt_at` is due (for `delivering`, the lease end). */
const CLAIMABLE = sql`('pending', 'failed', 'delivering')`;

/** What one claim round may take, given this worker's budgets per endpoint. */
export interface ClaimOptions {
  /** Most deliveries to claim. */
  limit: number;
  /** How long the claim holds the rows before another worker may take them back. */
  leaseMs: number;
  /** Most requests in flight to one endpoint. */
  perEndpoint: number;
  /** Requests this worker already has in flight, by endpoint id. */
  inFlight: Record<string, number>;
  /** Requests this worker sent within the last second, by endpoint id (for rate limits). */
  sentLastSecond: Record<string, number>;
  /** Endpoints with no budget left in this worker: skipped by the scan so others are not starved. */
  saturated: string[];
}

/**
 * Claims due deliveries of enabled endpoints with `FOR UPDATE SKIP LOCKED`: concurrent workers
 * never claim the same row. Nothing is claimed for a paused endpoint, nor at all while the pool
 * is paused (a row in `outbound_pauses`): every instance's claim reads the pause itself. Each endpoint gets at most its remaining concurrency and rate
 * budget. The lease end is written to `next_attempt_at`, so a delivery whose worker died becomes
 * due again by the same index once the lease expires.
 */
export function claimDueDeliveries(executor: Executor, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  const inFlight = JSON.stringify(options.inFlight);
  const sent = JSON.stringify(options.sentLastSecond);
  const saturated = JSON.stringify(options.saturated);
  return queryRows<ClaimedRow>(
    executor,
    sql`
      with due as (
        select d.id, d.endpoint_id, d.next_attempt_at, e.rate_limit_per_second
        from deliveries d join endpoints e on e.id = d.endpoint_id
        where d.status in ${CLAIMABLE} and d.next_attempt_at <= now() and e.enabled
          and e.paused_at is null and not exists (select from outbound_pauses)
          and not (${saturated}::jsonb ? d.endpoint_id)
        order by d.next_attempt_at
        limit ${options.limit * 8}::int
      ), ranked as (
        select id,
          row_number() over (partition by endpoint_id order by next_attempt_at, id) as rank,
          least(
            ${options.perEndpoint}::int - coalesce((${inFlight}::jsonb ->> endpoint_id)::int, 0),
            coalesce(rate_limit_per_second - coalesce((${sent}::jsonb ->> endpoint_id)::int, 0), ${options.perEndpoint}::int)
          ) as budget
        from due
      ), picked as (
        select d.id from deliveries d
        where d.id in (select id from ranked where rank <= budget)
          and d.status in ${CLAIMABLE} and d.next_attempt_at <= now()
        order by d.next_attempt_at
        limit ${options.limit}::int
        for update of d skip locked
      )
      update deliveries d set
        status = 'delivering',
        attempts = d.attempts + 1,
        lease_expires_at = now() + ${options.leaseMs}::int * interval '1 millisecond',
        next_attempt_at = now() + ${options.leaseMs}::int * interval '1 millisecond',
        updated_at = now()
      from picked, endpoints e
      where d.id = picked.id and e.id = d.endpoint_id
      returning d.id, d.webhook_id as "webhookId", d.endpoint_id as "endpointId",
        d.event_type as "eventType", d.payload, d.attempts,
        e.url, e.headers, e.secret_encrypted as "secretEncrypted",
        e.previous_secret_encrypted as "previousSecretEncrypted",
        e.previous_secret_expires_at as "previousSecretExpiresAt", e.max_attempts as "maxAttempts",
        e.failing_since is not null as failing, e.signature_scheme as "signatureScheme",
        e.signature_header as "signatureHeader", e.retry_schedule as "retrySchedule"`,
  ).then((rows) => rows.map(toClaimed));
}

/** Inserts a delivery already claimed by the caller (the `test` route sends it at once). */
export async function insertClaimedDelivery(
  executor: Executor,
  row: { webhookId: string; endpointId: string; eventType: string; payload: unknown; leaseMs: number },
  target: DeliveryTarget,
): Promise<ClaimedDelivery> {
  const leaseEnd = new Date(Date.now() + row.leaseMs);
  const [inserted] = await executor
    .insert(deliveries)
    .values({
      webhookId: row.webhookId,
      endpointId: row.endpointId,
      eventType: row.eventType,
      payload: row.payload,
      status: 'delivering',
      attempts: 1,
      nextAttemptAt: leaseEnd,
      leaseExpiresAt: leaseEnd,
    })
    .returning();
  const claimed = inserted!;
  return {
    id: claimed.id,
    webhookId: claimed.webhookId,
    endpointId: claimed.endpointId,
    eventType: claimed.eventType,
    payload: claimed.payload,
    attempts: claimed.attempts,
    target,
  };
}

/** Deliveries waiting to be sent (due or scheduled), for the backlog gauge. */
export async function countBacklog(executor: Executor): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    executor,
    sql`select count(*) as n from deliveries where status in ${CLAIMABLE}`,
  );
  return Number(row?.n ?? 0);
}
