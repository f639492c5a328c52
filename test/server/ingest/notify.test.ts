import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REALTIME_CHANNEL } from '../../../server/realtime/index.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { useTestApp } from '../../support/app.js';
import { describePostgres } from '../../support/databases.js';
import { postWebhook } from '../../support/webhooks.js';

describePostgres('NOTIFY per committed batch', () => {
  const t = useTestApp('postgres');
  let listener: pg.Client;
  const notifications: string[] = [];

  beforeAll(async () => {
    listener = new pg.Client({ connectionString: t.db.url });
    await listener.connect();
    listener.on('notification', (message) => notifications.push(message.payload ?? ''));
    await listener.query(`LISTEN ${REALTIME_CHANNEL}`);
  });

  afterAll(async () => {
    await listener?.end();
  });

  it('sends one NOTIFY per batch, not per message, carrying the highest seq', async () => {
    const account = fakeAccount();
    const batchesBefore = await batchCount();
    await Promise.all(Array.from({ length: 300 }, () => postWebhook(t.app, messageReceived({ account }))));
    const batches = (await batchCount()) - batchesBefore;
    // Notifications are delivered asynchronously after commit: wait for all of them, boundedly.
    for (let waited = 0; notifications.length < batches && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(notifications).toHaveLength(batches);
    expect(batches).toBeLessThan(300);
    const seqs = notifications.map(Number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  async function batchCount(): Promise<number> {
    const metric = await t.app.metrics.getSingleMetric('hookline_ingest_batch_size')?.get();
    const count = metric?.values.find(
      (value) => (value as { metricName?: string }).metricName === 'hookline_ingest_batch_size_count',
    );
    return count?.value ?? 0;
  }
});
