import { and, desc, eq, gte, inArray, lt, ne, sql } from 'drizzle-orm';
import { deliveries, deliveryAttempts } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import type { DeliveryRow } from './deliveries.js';

/** One page of an endpoint's deliveries, newest first, before the cursor id. */
export function listEndpointDeliveries(
  executor: Executor,
  options: { endpointId: string; status?: string; before?: number; limit: number },
): Promise<DeliveryRow[]> {
  return executor
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.endpointId, options.endpointId),
        options.status ? eq(deliveries.status, options.status) : undefined,
        options.before === undefined ? undefined : lt(deliveries.id, options.before),
      ),
    )
    .orderBy(desc(deliveries.id))
    .limit(options.limit);
}

/** One delivery by id, or undefined. */
export async function findDelivery(executor: Executor, id: number): Promise<DeliveryRow | undefined> {
  const [row] = await executor.select().from(deliveries).where(eq(deliveries.id, id));
  return row;
}

/** A delivery back in the queue: due now, with a fresh attempt budget and no lease. */
const requeued = () => ({
  status: 'pending',
  attempts: 0,
  nextAttemptAt: new Date(),
  leaseExpiresAt: null,
  updatedAt: new Date(),
});

/**
 * Puts a delivery back in the queue, due now, with a fresh attempt budget; refuses (undefined)
 * while a worker holds it. Its attempts stay in the log.
 */
export async function requeueDelivery(executor: Executor, id: number): Promise<DeliveryRow | undefined> {
  const [row] = await executor
    .update(deliveries)
    .set(requeued())
    .where(and(eq(deliveries.id, id), ne(deliveries.status, 'delivering')))
    .returning();
  return row;
}

/** Re-queues an endpoint's failed and dead deliveries created since `since`. @returns how many. */
export async function requeueFailedDeliveries(
  executor: Executor,
  endpointId: string,
  since: Date,
): Promise<number> {
  const rows = await executor
    .update(deliveries)
    .set(requeued())
    .where(
      and(
        eq(deliveries.endpointId, endpointId),
        inArray(deliveries.status, ['failed', 'dead']),
        gte(deliveries.createdAt, since),
      ),
    )
    .returning({ id: deliveries.id });
  return rows.length;
}

/** An endpoint's health for `GET /api/endpoints/:id/stats`. */
export interface EndpointStats {
  attempts: number;
  succeeded: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  deliveries: Record<string, number>;
  lastError: { at: string; statusCode: number | null; error: string | null } | null;
}

/** Attempt success rate and latency percentiles since `since`, delivery counts by status, last failure. */
export async function endpointStats(
  executor: Executor,
  endpointId: string,
  since: Date,
): Promise<EndpointStats> {
  const [attempts] = await queryRows<{
    attempts: string;
    succeeded: string;
    p50: number | null;
    p90: number | null;
    p99: number | null;
  }>(
    executor,
    sql`
      select count(*) as attempts,
        count(*) filter (where a.status_code between 200 and 299) as succeeded,
        percentile_cont(0.5) within group (order by a.duration_ms) as p50,
        percentile_cont(0.9) within group (order by a.duration_ms) as p90,
        percentile_cont(0.99) within group (order by a.duration_ms) as p99
      from delivery_attempts a join deliveries d on d.id = a.delivery_id
      where d.endpoint_id = ${endpointId} and a.attempted_at >= ${since.toISOString()}::timestamptz`,
  );
  const byStatus = await executor
    .select({ status: deliveries.status, n: sql<string>`count(*)` })
    .from(deliveries)
    .where(eq(deliveries.endpointId, endpointId))
    .groupBy(deliveries.status);
  const [last] = await executor
    .select({
      at: deliveryAttempts.attemptedAt,
      statusCode: deliveryAttempts.statusCode,
      error: deliveryAttempts.error,
    })
    .from(deliveryAttempts)
    .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
    .where(
      and(
        eq(deliveries.endpointId, endpointId),
        sql`(${deliveryAttempts.statusCode} is null or ${deliveryAttempts.statusCode} not between 200 and 299)`,
      ),
    )
    .orderBy(desc(deliveryAttempts.attemptedAt), desc(deliveryAttempts.id))
    .limit(1);
  const round = (value: number | null | undefined) =>
    value === null || value === undefined ? null : Math.round(Number(value));
  return {
    attempts: Number(attempts?.attempts ?? 0),
    succeeded: Number(attempts?.succeeded ?? 0),
    latencyMs: { p50: round(attempts?.p50), p90: round(attempts?.p90), p99: round(attempts?.p99) },
    deliveries: Object.fromEntries(byStatus.map((row) => [row.status, Number(row.n)])),
    lastError: last ? { at: last.at.toISOString(), statusCode: last.statusCode, error: last.error } : null,
  };
}

/** Which deliveries a bulk retry re-queues, and where the previous batch stopped. */
export interface RequeueBatch {
  status: 'dead' | 'failed';
  /** Only deliveries created at or after this time. */
  since?: Date;
  endpointId?: string;
  /** Only ids above this one (the previous batch's last), so no delivery is re-queued twice. */
  afterId: number;
  /** Only ids up to this one (the newest when the retry began): later ones are not its business. */
  upToId: number;
  limit: number;
}

/**
 * Re-queues one batch of a bulk retry, in id order, like {@link requeueDelivery}. Rows a worker
 * has locked are skipped rather than waited for, so a batch never holds up a claim.
 *
 * @returns how many were re-queued and the last id looked at (undefined when none was left).
 */
export async function requeueBatch(
  executor: Executor,
  batch: RequeueBatch,
): Promise<{ requeued: number; lastId: number | undefined }> {
  const [row] = await queryRows<{ requeued: string | number; last_id: string | number | null }>(
    executor,
    sql`
      with picked as (
        select id from deliveries
        where status = ${batch.status} and id > ${batch.afterId} and id <= ${batch.upToId}
          ${batch.since ? sql`and created_at >= ${batch.since.toISOString()}::timestamptz` : sql``}
          ${batch.endpointId ? sql`and endpoint_id = ${batch.endpointId}` : sql``}
        order by id
        limit ${batch.limit}::int
        for update skip locked
      ), requeued as (
        update deliveries d set status = 'pending', attempts = 0, next_attempt_at = now(),
          lease_expires_at = null, updated_at = now()
        from picked where d.id = picked.id
        returning d.id
      )
      select (select count(*) from requeued) as requeued, (select max(id) from picked) as last_id`,
  );
  return {
    requeued: Number(row?.requeued ?? 0),
    lastId: row?.last_id === null || row?.last_id === undefined ? undefined : Number(row.last_id),
  };
}

/** The newest delivery id, or 0 when there is none: where a bulk retry stops. */
export async function newestDeliveryId(executor: Executor): Promise<number> {
  const [row] = await queryRows<{ id: string | number | null }>(
    executor,
    sql`select max(id) as id from deliveries`,
  );
  return Number(row?.id ?? 0);
}
