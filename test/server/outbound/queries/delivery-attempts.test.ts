import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts, endpoints } from '../../../../drizzle/schema.js';
import type { Db } from '../../../../server/db/database.js';
import { transaction } from '../../../../server/db/transaction.js';
import {
  type FinishedAttempt,
  recordAttempts,
} from '../../../../server/outbound/queries/delivery-attempts.js';
import { testDatabaseKinds, useTestDatabase } from '../../../support/databases.js';

const LEASE_END = new Date('2030-01-01T00:00:00.000Z');
const STARTED = new Date('2029-12-31T23:59:00.000Z');

/** A delivery claimed for its `attempts`-th attempt, as the claim leaves it. */
async function claimedDelivery(db: Db, endpointId: string, webhookId: string, attempts: number) {
  const [row] = await db
    .insert(deliveries)
    .values({
      webhookId,
      endpointId,
      eventType: 'message.received',
      payload: { webhookId },
      status: 'delivering',
      attempts,
      nextAttemptAt: LEASE_END,
      leaseExpiresAt: LEASE_END,
    })
    .returning();
  return row!;
}

function finished(deliveryId: number, attempt: number, rest: Partial<FinishedAttempt>): FinishedAttempt {
  return {
    deliveryId,
    attempt,
    next: { status: 'dead' },
    statusCode: null,
    error: null,
    responseBodyExcerpt: null,
    attemptedAt: STARTED,
    durationMs: 12,
    ...rest,
  };
}

describe.each(testDatabaseKinds())('recording attempts on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('settles the deliveries still in their claim and logs every attempt whose delivery exists', async () => {
    const { db: drizzle } = db.current.database;
    await drizzle
      .insert(endpoints)
      .values({ id: 'ep_record', url: 'https://x.example', secretEncrypted: 's', maxAttempts: 5 });
    const ok = await claimedDelivery(drizzle, 'ep_record', 'msg_ok', 1);
    const retry = await claimedDelivery(drizzle, 'ep_record', 'msg_retry', 2);
    const dead = await claimedDelivery(drizzle, 'ep_record', 'msg_dead', 5);
    const lost = await claimedDelivery(drizzle, 'ep_record', 'msg_lost', 3);
    const deleted = await claimedDelivery(drizzle, 'ep_record', 'msg_deleted', 1);
    await drizzle.delete(deliveries).where(eq(deliveries.id, deleted.id));
    const deliveredAt = new Date('2029-12-31T23:59:01.000Z');
    const retryAt = new Date('2030-01-01T00:05:00.000Z');

    const recorded = await recordAttempts(drizzle, [
      finished(ok.id, 1, {
        next: { status: 'succeeded', at: deliveredAt },
        statusCode: 200,
        responseBodyExcerpt: 'ok',
      }),
      finished(retry.id, 2, {
        next: { status: 'failed', nextAttemptAt: retryAt },
        statusCode: 500,
        error: 'HTTP 500',
        responseBodyExcerpt: 'boom',
      }),
      finished(dead.id, 5, { statusCode: null, error: 'request timeout after 5000 ms' }),
      // Sent as attempt 2, but the lease expired and another worker claimed attempt 3 meanwhile.
      finished(lost.id, 2, { next: { status: 'succeeded', at: deliveredAt }, statusCode: 200 }),
      finished(deleted.id, 1, { statusCode: 200, next: { status: 'succeeded', at: deliveredAt } }),
    ]);

    expect(recorded.map((answer) => answer.settled)).toEqual([true, true, true, false, false]);
    expect(recorded[4]!.attempt).toBeUndefined();
    const logged = await drizzle.select().from(deliveryAttempts).orderBy(asc(deliveryAttempts.id));
    expect(logged).toEqual(recorded.slice(0, 4).map((answer) => answer.attempt));
    expect(logged.map((row) => [row.deliveryId, row.statusCode, row.error, row.responseBodyExcerpt])).toEqual(
      [
        [ok.id, 200, null, 'ok'],
        [retry.id, 500, 'HTTP 500', 'boom'],
        [dead.id, null, 'request timeout after 5000 ms', null],
        [lost.id, 200, null, null],
      ],
    );
    for (const row of logged) expect(row).toMatchObject({ attemptedAt: STARTED, durationMs: 12 });

    const stored = await drizzle.select().from(deliveries).orderBy(asc(deliveries.id));
    const pick = (row: (typeof stored)[number]) => ({
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.nextAttemptAt,
      leaseExpiresAt: row.leaseExpiresAt,
      lastStatusCode: row.lastStatusCode,
      lastError: row.lastError,
      deliveredAt: row.deliveredAt,
    });
    expect(stored.map(pick)).toEqual([
      {
        status: 'succeeded',
        attempts: 1,
        nextAttemptAt: LEASE_END,
        leaseExpiresAt: null,
        lastStatusCode: 200,
        lastError: null,
        deliveredAt,
      },
      {
        status: 'failed',
        attempts: 2,
        nextAttemptAt: retryAt,
        leaseExpiresAt: null,
        lastStatusCode: 500,
        lastError: 'HTTP 500',
        deliveredAt: null,
      },
      {
        status: 'dead',
        attempts: 5,
        nextAttemptAt: LEASE_END,
        leaseExpiresAt: null,
        lastStatusCode: null,
        lastError: 'request timeout after 5000 ms',
        deliveredAt: null,
      },
      // Untouched: the newer claim owns it.
      {
        status: 'delivering',
        attempts: 3,
        nextAttemptAt: LEASE_END,
        leaseExpiresAt: LEASE_END,
        lastStatusCode: null,
        lastError: null,
        deliveredAt: null,
      },
    ]);
  });

  it('answers each attempt with its own row when one delivery appears twice, batch after batch', async () => {
    const { db: drizzle } = db.current.database;
    await drizzle
      .insert(endpoints)
      .values({ id: 'ep_twice', url: 'https://x.example', secretEncrypted: 's', maxAttempts: 5 });
    for (const round of [1, 2]) {
      const delivery = await claimedDelivery(drizzle, 'ep_twice', `msg_twice_${round}`, 2);
      // The stale attempt 1 and the current attempt 2 finish together: only the current one settles.
      const recorded = await transaction(drizzle, (tx) =>
        recordAttempts(tx, [
          finished(delivery.id, 1, { statusCode: 503, error: 'HTTP 503' }),
          finished(delivery.id, 2, { statusCode: 200, next: { status: 'succeeded', at: STARTED } }),
        ]),
      );

      expect(recorded.map((answer) => [answer.settled, answer.attempt?.statusCode])).toEqual([
        [false, 503],
        [true, 200],
      ]);
      const logged = await drizzle
        .select()
        .from(deliveryAttempts)
        .where(eq(deliveryAttempts.deliveryId, delivery.id))
        .orderBy(asc(deliveryAttempts.id));
      expect([...logged].sort((a, b) => a.statusCode! - b.statusCode!)).toEqual(
        recorded.map((answer) => answer.attempt).sort((a, b) => a!.statusCode! - b!.statusCode!),
      );
      const [stored] = await drizzle.select().from(deliveries).where(eq(deliveries.id, delivery.id));
      expect(stored).toMatchObject({ status: 'succeeded', lastStatusCode: 200 });
    }
  });

  it('records nothing for an empty batch', async () => {
    expect(await recordAttempts(db.current.database.db, [])).toEqual([]);
  });
});
