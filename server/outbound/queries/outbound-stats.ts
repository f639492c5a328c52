import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';

/** The queue of one endpoint, or of all together. */
export interface QueueCounts {
  /** Never attempted yet (or re-queued), waiting for a worker. */
  pending: number;
  /** Failed at least once, with a retry scheduled. */
  scheduledForRetry: number;
  /** Claimed by a worker and being sent. */
  inFlight: number;
  /** Out of attempts (or 410): waiting for a retry by API. */
  dead: number;
  /** Age in seconds of the oldest delivery still owed (pending, scheduled or in flight); null when none is. */
  oldestPendingAgeSeconds: number | null;
  /** Deliveries that succeeded in the last minute, per second. */
  deliveredPerSecond: number;
}

/** The queue of one endpoint, with whether it is paused or disabled. */
export interface EndpointQueue extends QueueCounts {
  endpointId: string;
  paused: boolean;
  enabled: boolean;
}

/** The window `deliveredPerSecond` averages over. */
const RATE_WINDOW_SECONDS = 60;

interface StatsRow {
  endpoint_id: string;
  paused: boolean;
  enabled: boolean;
  pending: string | number | null;
  retrying: string | number | null;
  in_flight: string | number | null;
  dead: string | number | null;
  oldest_age: string | number | null;
  delivered: string | number | null;
}

/**
 * The queue per endpoint (every endpoint, in id order), read in one statement through the
 * `(status, next_attempt_at)` index. Succeeded deliveries are found by `next_attempt_at` too: a
 * claim sets it to the lease end, which a recorded success is not later than, so those delivered
 * within the window all have it within the window (or after it).
 */
export async function queueStatsByEndpoint(executor: Executor): Promise<EndpointQueue[]> {
  const rows = await queryRows<StatsRow>(
    executor,
    sql`
      with counted as (
        select endpoint_id,
          count(*) filter (where status = 'pending') as pending,
          count(*) filter (where status = 'failed') as retrying,
          count(*) filter (where status = 'delivering') as in_flight,
          count(*) filter (where status = 'dead') as dead,
          extract(epoch from now() - min(created_at) filter (where status in ('pending', 'failed', 'delivering')))
            as oldest_age,
          count(*) filter (
            where status = 'succeeded' and delivered_at >= now() - ${RATE_WINDOW_SECONDS}::int * interval '1 second'
          ) as delivered
        from deliveries
        where status in ('pending', 'failed', 'delivering', 'dead')
          or (status = 'succeeded' and next_attempt_at >= now() - ${RATE_WINDOW_SECONDS}::int * interval '1 second')
        group by endpoint_id
      )
      select e.id as endpoint_id, e.paused_at is not null as paused, e.enabled,
        c.pending, c.retrying, c.in_flight, c.dead, c.oldest_age, c.delivered
      from endpoints e left join counted c on c.endpoint_id = e.id
      order by e.id`,
  );
  return rows.map((row) => ({
    endpointId: row.endpoint_id,
    paused: Boolean(row.paused),
    enabled: Boolean(row.enabled),
    pending: Number(row.pending ?? 0),
    scheduledForRetry: Number(row.retrying ?? 0),
    inFlight: Number(row.in_flight ?? 0),
    dead: Number(row.dead ?? 0),
    oldestPendingAgeSeconds: row.oldest_age === null ? null : Math.max(0, Math.round(Number(row.oldest_age))),
    deliveredPerSecond: Number(row.delivered ?? 0) / RATE_WINDOW_SECONDS,
  }));
}
