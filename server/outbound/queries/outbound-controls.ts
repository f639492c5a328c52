import { eq, sql } from 'drizzle-orm';
import { endpoints, outboundPauses } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import { DELIVERIES_CHANNEL } from '../outboxes.js';
import type { EndpointRow } from './endpoints.js';

/** The `outbound_pauses` scope that pauses every worker of every instance. */
const POOL_SCOPE = 'all';

/** Wakes the outbound workers of every instance (LISTEN on {@link DELIVERIES_CHANNEL}). */
async function notifyWorkers(executor: Executor): Promise<void> {
  await executor.execute(sql`select pg_notify(${DELIVERIES_CHANNEL}, '0')`);
}

/**
 * Pauses an endpoint: its deliveries stay queued and unclaimed. Pausing a paused endpoint keeps
 * the first pause time.
 *
 * @returns the row, or undefined when there is no such endpoint.
 */
export async function pauseEndpoint(executor: Executor, id: string): Promise<EndpointRow | undefined> {
  const [row] = await executor
    .update(endpoints)
    .set({ pausedAt: sql`coalesce(${endpoints.pausedAt}, now())`, updatedAt: new Date() })
    .where(eq(endpoints.id, id))
    .returning();
  return row;
}

/** Resumes an endpoint and wakes every instance's worker so its backlog goes out at once. */
export async function resumeEndpoint(executor: Executor, id: string): Promise<EndpointRow | undefined> {
  const [row] = await executor
    .update(endpoints)
    .set({ pausedAt: null, updatedAt: new Date() })
    .where(eq(endpoints.id, id))
    .returning();
  if (row) await notifyWorkers(executor);
  return row;
}

/** When the whole pool was paused, or null while it runs. */
export async function poolPausedAt(executor: Executor): Promise<Date | null> {
  const [row] = await executor
    .select({ pausedAt: outboundPauses.pausedAt })
    .from(outboundPauses)
    .where(eq(outboundPauses.scope, POOL_SCOPE));
  return row?.pausedAt ?? null;
}

/** Pauses every worker on every instance (their claims read the row); keeps the first pause time. */
export async function pausePool(executor: Executor): Promise<Date> {
  await executor.insert(outboundPauses).values({ scope: POOL_SCOPE }).onConflictDoNothing();
  return (await poolPausedAt(executor)) ?? new Date();
}

/** Resumes the pool and wakes every instance's worker. */
export async function resumePool(executor: Executor): Promise<void> {
  await executor.delete(outboundPauses).where(eq(outboundPauses.scope, POOL_SCOPE));
  await notifyWorkers(executor);
}

/** An operational event (`endpoint.disabled`, `delivery.exhausted`) about one endpoint. */
export interface OperationalEventInput {
  type: string;
  webhookId: string;
  /** The endpoint the event is about: it never receives the event itself. */
  aboutEndpointId: string;
  payload: unknown;
}

/**
 * Enqueues operational events for the enabled endpoints that list their type in `event_types`
 * (an endpoint taking every type by `null` does not get them), never for the endpoint an event is
 * about, and wakes every instance's worker.
 *
 * @returns how many deliveries were enqueued.
 */
export async function enqueueOperationalEvents(
  executor: Executor,
  events: OperationalEventInput[],
): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map((event) => ({
    type: event.type,
    webhook_id: event.webhookId,
    about: event.aboutEndpointId,
    payload: event.payload,
  }));
  const [row] = await queryRows<{ n: string | number }>(
    executor,
    sql`
      with inserted as (
        insert into deliveries (webhook_id, endpoint_id, event_type, payload, status)
        select event.webhook_id, endpoint.id, event.type, event.payload, 'pending'
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as event(type text, webhook_id text, about text, payload jsonb)
        join endpoints as endpoint on endpoint.enabled
          and event.type = any (endpoint.event_types) and endpoint.id <> event.about
        on conflict do nothing
        returning 1
      )
      select count(*) as n from inserted`,
  );
  const enqueued = Number(row?.n ?? 0);
  if (enqueued > 0) await notifyWorkers(executor);
  return enqueued;
}
