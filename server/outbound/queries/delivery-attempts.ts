import { and, eq, getTableColumns, getTableName, sql } from 'drizzle-orm';
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { deliveries, deliveryAttempts } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';
import { preparedName, recordsetRows } from '../../db/recordset.js';
import type { DeliveryAttemptRow } from './deliveries.js';

/** Where a delivery goes after an attempt. */
export type DeliveryNext =
  | { status: 'succeeded'; at: Date }
  | { status: 'failed'; nextAttemptAt: Date }
  | { status: 'dead' };

/** One finished attempt: the delivery's next state and what to log. */
export interface FinishedAttempt {
  deliveryId: number;
  /** The claim's attempt number: the delivery is settled only if it is still in that claim. */
  attempt: number;
  next: DeliveryNext;
  statusCode: number | null;
  error: string | null;
  responseBodyExcerpt: string | null;
  attemptedAt: Date;
  durationMs: number;
}

/** How {@link recordAttempts} recorded one finished attempt. */
export interface RecordedAttempt {
  /** Whether the delivery was still in the attempt's claim and now carries its outcome. */
  settled: boolean;
  /** The logged attempt, or undefined when the delivery no longer exists (its endpoint was deleted). */
  attempt: DeliveryAttemptRow | undefined;
}

/**
 * The columns of one finished attempt in {@link recordAttempts}' JSON parameter: a recordset read
 * with `json_to_recordset`, not a stored table (drizzle-kit only reads drizzle/schema.ts).
 */
const finished = pgTable('finished', {
  /** Place in the batch, to answer in input order. */
  position: integer('position').notNull(),
  /** The id the attempt row gets, drawn up front so each answer finds its own row. */
  attemptId: bigint('attempt_id', { mode: 'number' }).notNull(),
  deliveryId: bigint('delivery_id', { mode: 'number' }).notNull(),
  attempt: integer('attempt').notNull(),
  status: text('status').notNull(),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
  deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
  statusCode: integer('status_code'),
  error: text('error'),
  responseBodyExcerpt: text('response_body_excerpt'),
  attemptedAt: timestamp('attempted_at', { withTimezone: true, mode: 'date' }).notNull(),
  durationMs: integer('duration_ms').notNull(),
});

const nextAttemptId = sql`nextval(pg_get_serial_sequence(${getTableName(deliveryAttempts)}, ${deliveryAttempts.id.name}))`;

/**
 * Records a batch of finished attempts in ONE statement (the whole batch is one JSON parameter):
 * each delivery takes its outcome only if it is still in the claim that sent it (a worker whose
 * lease expired must not overwrite a newer attempt's result), and every attempt is logged unless
 * its delivery is gone. An attempt whose claim was lost to another worker is still logged: it
 * was sent.
 *
 * @returns one answer per attempt, in input order.
 */
export async function recordAttempts(
  executor: Executor,
  attempts: FinishedAttempt[],
): Promise<RecordedAttempt[]> {
  if (attempts.length === 0) return [];
  const recordset = recordsetRows(
    finished,
    attempts.map((attempt, position) => ({
      position,
      deliveryId: attempt.deliveryId,
      attempt: attempt.attempt,
      status: attempt.next.status,
      nextAttemptAt: attempt.next.status === 'failed' ? attempt.next.nextAttemptAt : null,
      deliveredAt: attempt.next.status === 'succeeded' ? attempt.next.at : null,
      statusCode: attempt.statusCode,
      error: attempt.error,
      responseBodyExcerpt: attempt.responseBodyExcerpt,
      attemptedAt: attempt.attemptedAt,
      durationMs: attempt.durationMs,
    })),
    { attemptId: nextAttemptId },
  );
  // Every sub-statement sees the rows as they were before the statement, so whether a delivery
  // exists does not depend on the settling update next to it.
  const batch = executor.$with('finished', getTableColumns(finished)).as(recordset.source);
  const settled = executor.$with('settled').as(
    executor
      .update(deliveries)
      .set({
        status: sql`${batch.status}`,
        leaseExpiresAt: null,
        lastStatusCode: sql`${batch.statusCode}`,
        lastError: sql`${batch.error}`,
        updatedAt: sql`now()`,
        deliveredAt: sql`coalesce(${batch.deliveredAt}, ${deliveries.deliveredAt})`,
        nextAttemptAt: sql`coalesce(${batch.nextAttemptAt}, ${deliveries.nextAttemptAt})`,
      })
      .from(batch)
      .where(
        and(
          eq(deliveries.id, batch.deliveryId),
          eq(deliveries.status, 'delivering'),
          eq(deliveries.attempts, batch.attempt),
        ),
      )
      .returning({ position: batch.position }),
  );
  const logged = executor.$with('logged').as(
    executor
      .insert(deliveryAttempts)
      .select(
        executor
          .select({
            id: batch.attemptId,
            deliveryId: batch.deliveryId,
            attemptedAt: batch.attemptedAt,
            durationMs: batch.durationMs,
            statusCode: batch.statusCode,
            error: batch.error,
            responseBodyExcerpt: batch.responseBodyExcerpt,
          })
          .from(batch)
          .innerJoin(deliveries, eq(deliveries.id, batch.deliveryId)),
      )
      .returning(),
  );
  const rows = await executor
    .with(batch, settled, logged)
    .select({
      settled: sql<boolean>`${settled.position} is not null`,
      attempt: {
        id: logged.id,
        deliveryId: logged.deliveryId,
        attemptedAt: logged.attemptedAt,
        durationMs: logged.durationMs,
        statusCode: logged.statusCode,
        error: logged.error,
        responseBodyExcerpt: logged.responseBodyExcerpt,
      },
    })
    .from(batch)
    .leftJoin(settled, eq(settled.position, batch.position))
    .leftJoin(logged, eq(logged.id, batch.attemptId))
    .orderBy(batch.position)
    .prepare(preparedName('record_attempts', recordset))
    .execute();
  return rows.map((row) => ({ settled: row.settled, attempt: row.attempt ?? undefined }));
}
