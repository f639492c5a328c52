import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import { endpoints } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';

/** A row of `endpoints`, as drizzle reads it. */
export type EndpointRow = typeof endpoints.$inferSelect;
/** The columns of a new endpoint; also the shape of a partial update. */
export type NewEndpointRow = typeof endpoints.$inferInsert;

/** Advisory lock serialising endpoint creation, so the cap check and the insert cannot interleave. */
const ENDPOINT_CAP_LOCK = 0x686c6570; // "hlep"

/**
 * Inserts an endpoint unless `cap` endpoints already exist. Call it inside a transaction: The transaction-scoped advisory lock
 * makes count-then-insert atomic across connections and instances.
 *
 * @returns the row, or undefined when the cap is reached.
 */
export async function insertEndpointWithinCap(
  tx: Executor,
  row: NewEndpointRow,
  cap: number,
): Promise<EndpointRow | undefined> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ENDPOINT_CAP_LOCK})`);
  const [existing] = await tx.select({ n: count() }).from(endpoints);
  if ((existing?.n ?? 0) >= cap) return undefined;
  const [inserted] = await tx.insert(endpoints).values(row).returning();
  return inserted;
}

/** One page of endpoints in id order (ids sort by creation time), after the cursor id. */
export function listEndpoints(
  executor: Executor,
  options: { after?: string; limit: number },
): Promise<EndpointRow[]> {
  return executor
    .select()
    .from(endpoints)
    .where(options.after ? gt(endpoints.id, options.after) : undefined)
    .orderBy(asc(endpoints.id))
    .limit(options.limit);
}

/** One endpoint by id, or undefined. */
export async function findEndpoint(executor: Executor, id: string): Promise<EndpointRow | undefined> {
  const [row] = await executor.select().from(endpoints).where(eq(endpoints.id, id));
  return row;
}

/** Applies a partial update; re-enabling clears why it was disabled and how long it has failed. */
export async function updateEndpoint(
  executor: Executor,
  id: string,
  patch: Partial<NewEndpointRow>,
): Promise<EndpointRow | undefined> {
  const reenable = patch.enabled === true ? { disabledReason: null, failingSince: null } : {};
  const [row] = await executor
    .update(endpoints)
    .set({ ...patch, ...reenable, updatedAt: new Date() })
    .where(eq(endpoints.id, id))
    .returning();
  return row;
}

/** Deletes an endpoint and (by cascade) its deliveries and their attempts. */
export async function deleteEndpoint(executor: Executor, id: string): Promise<boolean> {
  const rows = await executor.delete(endpoints).where(eq(endpoints.id, id)).returning({ id: endpoints.id });
  return rows.length > 0;
}

/**
 * Makes `secretEncrypted` the signing secret and keeps the current one signing until
 * `previousExpiresAt`. A second rotation within the overlap drops the oldest secret.
 */
export async function rotateEndpointSecret(
  executor: Executor,
  id: string,
  secretEncrypted: string,
  previousExpiresAt: Date,
): Promise<EndpointRow | undefined> {
  const [row] = await executor
    .update(endpoints)
    .set({
      previousSecretEncrypted: sql`${endpoints.secretEncrypted}`,
      previousSecretExpiresAt: previousExpiresAt,
      secretEncrypted,
      updatedAt: new Date(),
    })
    .where(eq(endpoints.id, id))
    .returning();
  return row;
}

/** After a 2xx: the endpoint is healthy again. */
export async function markEndpointHealthy(executor: Executor, id: string): Promise<void> {
  await executor
    .update(endpoints)
    .set({ failingSince: null })
    .where(and(eq(endpoints.id, id), sql`${endpoints.failingSince} is not null`));
}

/**
 * After a failed attempt: starts the failing clock if it is not running, and disables the
 * endpoint when it has failed for `disableAfterMs` (or at once when `gone`, after an HTTP 410).
 *
 * @returns the reason it was disabled by this call, if it was.
 */
export async function markEndpointFailing(
  executor: Executor,
  id: string,
  options: { at: Date; disableAfterMs: number; gone: boolean },
): Promise<string | undefined> {
  const failingSince = sql`coalesce(${endpoints.failingSince}, ${options.at.toISOString()}::timestamptz)`;
  const reason = options.gone
    ? 'the endpoint answered 410 Gone'
    : 'every attempt failed for longer than OUTBOUND_DISABLE_AFTER_MS';
  const [disabled] = await executor
    .update(endpoints)
    .set({ failingSince, enabled: false, disabledReason: reason, updatedAt: new Date() })
    .where(
      and(
        eq(endpoints.id, id),
        eq(endpoints.enabled, true),
        options.gone
          ? undefined
          : sql`${failingSince} <= ${options.at.toISOString()}::timestamptz - ${options.disableAfterMs}::int * interval '1 millisecond'`,
      ),
    )
    .returning({ id: endpoints.id });
  if (disabled) return reason;
  await executor
    .update(endpoints)
    .set({ failingSince })
    .where(and(eq(endpoints.id, id), sql`${endpoints.failingSince} is null`));
  return undefined;
}

/**
 * Endpoints with custom headers, with their URL: the startup pass seals and pins any value
 * written before values were encrypted at rest or pinned to their host (server/outbound/header-box.ts).
 */
export function listEndpointsWithHeaders(
  executor: Executor,
): Promise<Array<{ id: string; url: string; headers: Record<string, string> }>> {
  return executor
    .select({
      id: endpoints.id,
      url: endpoints.url,
      headers: sql<Record<string, string>>`${endpoints.headers}`,
    })
    .from(endpoints)
    .where(sql`${endpoints.headers} <> '{}'::jsonb`);
}

/**
 * Replaces an endpoint's headers if they are still `expected`, so two instances sealing the same
 * row at startup (or a PATCH racing one) never overwrite each other's newer value.
 */
export async function replaceEndpointHeaders(
  executor: Executor,
  id: string,
  expected: Record<string, string>,
  headers: Record<string, string>,
): Promise<boolean> {
  const rows = await executor
    .update(endpoints)
    .set({ headers })
    .where(and(eq(endpoints.id, id), sql`${endpoints.headers} = ${JSON.stringify(expected)}::jsonb`))
    .returning({ id: endpoints.id });
  return rows.length > 0;
}
