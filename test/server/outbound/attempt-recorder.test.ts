import { count, eq, inArray } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts, endpoints } from '../../../drizzle/schema.js';
import { AttemptRecorder, type AttemptToRecord } from '../../../server/outbound/attempt-recorder.js';
import { OutboundMetrics } from '../../../server/outbound/metrics.js';
import { type ClaimedDelivery, insertClaimedDelivery } from '../../../server/outbound/queries/deliveries.js';
import type { DeliveryNext } from '../../../server/outbound/queries/delivery-attempts.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { captureLogs } from '../../support/outbound.js';

const SUCCEEDED: DeliveryNext = { status: 'succeeded', at: new Date() };

describe.each(testDatabaseKinds())('attempt recorder on %s', (kind) => {
  const db = useTestDatabase(kind);

  function recorder() {
    const metrics = new OutboundMetrics(new Registry(), async () => 0);
    const { logger, lines } = captureLogs('warn');
    const attempts = new AttemptRecorder({
      db: db.current.database.db,
      disableAfterMs: 60_000,
      metrics,
      log: logger,
    });
    return { attempts, metrics, lines };
  }

  async function claimed(endpoint: { id: string; failingSince?: Date }, n: number) {
    const { db: drizzle } = db.current.database;
    await drizzle
      .insert(endpoints)
      .values({ url: 'https://x.example/hook', secretEncrypted: 's', maxAttempts: 5, ...endpoint });
    const target = {
      url: 'https://x.example/hook',
      headers: {},
      secretEncrypted: 's',
      previousSecretEncrypted: null,
      previousSecretExpiresAt: null,
      maxAttempts: 5,
      failing: endpoint.failingSince !== undefined,
      signatureScheme: 'standard-webhooks',
      signatureHeader: null,
      retrySchedule: null,
    };
    const rows: ClaimedDelivery[] = [];
    for (let index = 0; index < n; index++) {
      const row = { endpointId: endpoint.id, eventType: 'message.received', payload: {}, leaseMs: 60_000 };
      rows.push(
        await insertClaimedDelivery(drizzle, { ...row, webhookId: `msg_${endpoint.id}_${index}` }, target),
      );
    }
    return rows;
  }

  function outcome(
    delivery: ClaimedDelivery,
    next: DeliveryNext,
    statusCode: number | null,
    responseBodyExcerpt: string | null = null,
  ): AttemptToRecord {
    return {
      attempt: {
        deliveryId: delivery.id,
        attempt: delivery.attempts,
        next,
        statusCode,
        error: next.status === 'succeeded' ? null : `HTTP ${statusCode}`,
        responseBodyExcerpt,
        attemptedAt: new Date(),
        durationMs: 3,
      },
      endpointId: delivery.endpointId,
      webhookId: delivery.webhookId,
      eventType: delivery.eventType,
      endpointFailing: delivery.target.failing,
      gone: statusCode === 410,
    };
  }

  async function attemptsPerDelivery(ids: number[]) {
    return db.current.database.db
      .select({ deliveryId: deliveryAttempts.deliveryId, n: count() })
      .from(deliveryAttempts)
      .where(inArray(deliveryAttempts.deliveryId, ids))
      .groupBy(deliveryAttempts.deliveryId);
  }

  it('records concurrent attempts in batches of at most 64, each attempt logged exactly once', async () => {
    const { attempts, metrics } = recorder();
    const burst = await claimed({ id: 'ep_burst' }, 150);

    const recorded = await Promise.all(burst.map((d) => attempts.record(outcome(d, SUCCEEDED, 200))));

    expect(recorded.map((answer) => answer.attempt?.deliveryId)).toEqual(burst.map((d) => d.id));
    const logged = await attemptsPerDelivery(burst.map((d) => d.id));
    expect(logged).toHaveLength(150);
    expect(logged.every((row) => row.n === 1)).toBe(true);
    const values = (await metrics.recordBatchSize.get()).values;
    const value = (name: string, le?: number) =>
      values.find((v) => v.metricName === name && (le === undefined || v.labels.le === le))?.value;
    expect(value('hookline_outbound_record_batch_size_sum')).toBe(150);
    const batches = value('hookline_outbound_record_batch_size_count')!;
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(batches).toBeLessThan(150);
    expect(value('hookline_outbound_record_batch_size_bucket', 64)).toBe(batches);
  });

  it('records a failed batch again item by item, so one bad attempt fails alone', async () => {
    const { attempts, lines } = recorder();
    const batch = await claimed({ id: 'ep_poison' }, 5);
    // Postgres text cannot hold NUL: this attempt cannot be stored, its batch fails as a whole.
    const poisoned = outcome(batch[2]!, SUCCEEDED, 200, 'bad \u0000 body');

    const settled = await Promise.allSettled(
      batch.map((d, index) => attempts.record(index === 2 ? poisoned : outcome(d, SUCCEEDED, 200))),
    );

    expect(settled.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const logged = await attemptsPerDelivery(batch.map((d) => d.id));
    expect(logged.map((row) => row.deliveryId).sort()).toEqual(
      [batch[0]!.id, batch[1]!.id, batch[3]!.id, batch[4]!.id].sort(),
    );
    const [left] = await db.current.database.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.id, batch[2]!.id));
    expect(left!.status).toBe('delivering');
    expect(lines.some((line) => line.includes('recording its attempts one by one'))).toBe(true);
  });

  it("updates each endpoint's health as its attempts say, reporting the one it disabled", async () => {
    const { attempts } = recorder();
    const [failing] = await claimed({ id: 'ep_starts_failing' }, 1);
    const [gone] = await claimed({ id: 'ep_gone' }, 1);
    const [back] = await claimed({ id: 'ep_back', failingSince: new Date(Date.now() - 1000) }, 1);

    const [failed, disabled, healed] = await Promise.all([
      attempts.record(outcome(failing!, { status: 'failed', nextAttemptAt: new Date() }, 500)),
      attempts.record(outcome(gone!, { status: 'dead' }, 410)),
      attempts.record(outcome(back!, SUCCEEDED, 204)),
    ]);

    expect(failed!.disabledReason).toBeUndefined();
    expect(disabled!.disabledReason).toContain('410');
    expect(healed!.disabledReason).toBeUndefined();
    const rows = await db.current.database.db
      .select()
      .from(endpoints)
      .where(inArray(endpoints.id, ['ep_starts_failing', 'ep_gone', 'ep_back']));
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get('ep_starts_failing')).toMatchObject({ enabled: true, failingSince: expect.any(Date) });
    expect(byId.get('ep_gone')).toMatchObject({ enabled: false, disabledReason: disabled!.disabledReason });
    expect(byId.get('ep_back')).toMatchObject({ enabled: true, failingSince: null });
  });

  it('drains: every attempt submitted is committed when drain resolves', async () => {
    const { attempts } = recorder();
    const pending = await claimed({ id: 'ep_drain' }, 20);

    const results = pending.map((d) => attempts.record(outcome(d, SUCCEEDED, 200)));
    await attempts.drain();

    expect(await attemptsPerDelivery(pending.map((d) => d.id))).toHaveLength(20);
    await Promise.all(results);
  });
});
