import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../server/db/database.js';
import { LISTENER_APPLICATION_NAME } from '../../../server/db/notifications.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { buildTestApp } from '../../support/app.js';
import { describePostgres, openTestDatabase, type TestDatabase } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import { openChat, SEND_TEST_ENV, send, sendRow } from './support.js';

describePostgres('sending with several instances on one Postgres', () => {
  let db: TestDatabase;
  let other: Database;
  let fake: FakeUnipile;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    other = await openDatabase({ kind: 'postgres', url: db.url, poolSize: 3 });
    fake = await startFakeUnipile();
  });
  afterAll(async () => {
    for (const app of apps.splice(0)) await app.close();
    await other?.close();
    await fake?.close();
    await db?.dispose();
  });

  const listeners = async () =>
    (
      await db.database.pool.query<{ query: string }>(
        'select query from pg_stat_activity where application_name = $1 and datname = current_database()',
        [LISTENER_APPLICATION_NAME],
      )
    ).rows.map((row) => row.query);

  it('wakes the worker of another instance by NOTIFY, without waiting for its poll, over one LISTEN connection each', async () => {
    const provider = { UNIPILE_DSN: fake.url, UNIPILE_API_KEY: fake.apiKey };
    const producer = await buildTestApp(db.database, {
      env: { ...provider, ...SEND_TEST_ENV, SEND_WORKER_ENABLED: 'false' },
    });
    apps.push(producer);
    await producer.ready();
    // Its poll never comes during the test: only the NOTIFY can wake it.
    const consumer = await buildTestApp(other, {
      env: { ...provider, ...SEND_TEST_ENV, SEND_POLL_INTERVAL_MS: '60000' },
    });
    apps.push(consumer);
    await consumer.ready();
    // One connection per instance, each listening on all of its channels; only the consumer's
    // includes the send channel, as only it runs a send worker.
    const queries = await waitFor(async () => {
      const found = await listeners();
      return found.length === 2 && found.some((query) => query.includes('hookline_sends'))
        ? found
        : undefined;
    }, 'both instances listening');
    for (const query of queries) {
      expect(query).toContain('hookline_realtime');
      expect(query).toContain('hookline_deliveries');
    }
    expect(queries.filter((query) => query.includes('hookline_sends'))).toHaveLength(1);

    const { account, chatId } = await openChat(producer);
    const response = await send(producer, chatId, { accountId: account.id, text: 'sent by the other one' });
    expect(response.statusCode).toBe(202);
    const { localId } = response.json();
    await waitFor(async () => (await sendRow(producer, localId))?.status === 'sent', 'sent by the consumer');
    expect(fake.sends.received.filter((request) => request.text === 'sent by the other one')).toHaveLength(1);
  });
});
