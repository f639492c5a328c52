import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { describePostgres, openTestDatabase, type TestDatabase } from '../../support/databases.js';
import {
  createEndpoint,
  endpointDeliveries,
  publishEvents,
  useOutboundFixtures,
} from '../../support/outbound.js';
import { connectThroughProxy } from '../../support/postgres-proxy.js';
import { waitFor } from '../../support/webhook-sink.js';

describePostgres('delivery workers sharing Postgres', () => {
  let db: TestDatabase;
  const use = useOutboundFixtures();
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('never sends one delivery from two workers at once, and sends each exactly once', async () => {
    const sink = await use.sink({ delayMs: 30 });
    const other = await openDatabase({ kind: 'postgres', url: db.url!, poolSize: 5 });
    const first = await use.app(db.database, { OUTBOUND_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '10000' });
    const second = await use.app(other, { OUTBOUND_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '10000' });
    const { id } = await createEndpoint(first, { url: sink.url });
    const events = await publishEvents(
      first,
      Array.from({ length: 60 }, () => ({})),
    );
    second.changes.emit({ deliveries: 60 });
    await waitFor(
      async () => (await endpointDeliveries(first, id, 'succeeded')).length === 60,
      20_000,
      'every delivery',
    );
    expect(sink.maxConcurrentPerWebhookId).toBe(1);
    const ids = sink.received.map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.webhookId)));
    await second.close();
    await other.close();
  });

  it('listens again after a Postgres outage and still wakes on NOTIFY', async () => {
    const sink = await use.sink();
    const { proxy, viaProxy } = await connectThroughProxy(db.url!);
    const producer = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const { id } = await createEndpoint(producer, { url: sink.url });
    const consumer = await use.app(viaProxy, { OUTBOUND_POLL_INTERVAL_MS: '60000' });
    const listening = async () => {
      const result = await db.database.pool!.query(
        "select 1 from pg_stat_activity where application_name = 'hookline_listener' and datname = current_database() and query like '%hookline_deliveries%'",
      );
      return result.rowCount === 1;
    };
    await waitFor(listening, 10_000, 'the first LISTEN');
    await proxy.cut();
    await waitFor(async () => !(await listening()), 10_000, 'the LISTEN connection to drop');
    await proxy.restore();
    await waitFor(listening, 10_000, 'LISTEN again');
    await publishEvents(producer, [{}]);
    await waitFor(() => sink.received.length === 1, 20_000, 'a NOTIFY-driven delivery after the outage');
    await waitFor(async () => (await endpointDeliveries(producer, id, 'succeeded')).length === 1);
    await consumer.close();
    await viaProxy.close();
    await proxy.close();
  });

  it('wakes on NOTIFY from another instance without waiting for the poll', async () => {
    const sink = await use.sink();
    const other = await openDatabase({ kind: 'postgres', url: db.url!, poolSize: 2 });
    const producer = await use.app(db.database, { OUTBOUND_WORKER_ENABLED: 'false' });
    const { id } = await createEndpoint(producer, { url: sink.url });
    const consumer = await use.app(other, { OUTBOUND_POLL_INTERVAL_MS: '60000' });
    // Let the consumer's startup claim round and LISTEN settle, so only NOTIFY can wake it now.
    await waitFor(async () => {
      const rows = await other.pool!.query(
        "select 1 from pg_stat_activity where application_name = 'hookline_listener' and datname = current_database() and query like '%hookline_deliveries%'",
      );
      return rows.rowCount === 1;
    });
    await publishEvents(producer, [{}]);
    await waitFor(() => sink.received.length === 1, 20_000, 'a NOTIFY-driven delivery');
    // The sink has it before the worker records the outcome: wait for the record, then count.
    await waitFor(
      async () => (await endpointDeliveries(producer, id, 'succeeded')).length === 1,
      10_000,
      'the delivery recorded as succeeded',
    );
    expect(sink.received).toHaveLength(1);
    await consumer.close();
    await other.close();
  });
});
