import { afterAll, beforeAll, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME, Notifications } from '../../../server/db/notifications.js';
import { describePostgres, openTestDatabase, type TestDatabase } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';

describePostgres('the LISTEN connection (Notifications)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.dispose();
  });

  const notify = (channel: string, payload: string) =>
    db.database.pool.query('select pg_notify($1, $2)', [channel, payload]);
  const listenerPids = async () =>
    (
      await db.database.pool.query<{ pid: number; query: string }>(
        'select pid, query from pg_stat_activity where application_name = $1 and datname = current_database()',
        [LISTENER_APPLICATION_NAME],
      )
    ).rows;

  it('dispatches by channel on one connection, and re-LISTENs every channel after reconnecting', async () => {
    const hub = new Notifications({
      connection: db.database.pool.options,
      onError: () => {},
      maxRetryMs: 200,
    });
    const received: string[] = [];
    const listening = { a: 0, b: 0 };
    hub.subscribe('hl_test_a', {
      onNotification: (payload) => received.push(`a:${payload}`),
      onListening: () => listening.a++,
    });
    hub.start();
    await waitFor(() => hub.listening && listening.a === 1, 'the first LISTEN');
    // A channel subscribed while connected is LISTENed at once.
    hub.subscribe('hl_test_b', {
      onNotification: (payload) => received.push(`b:${payload}`),
      onListening: () => listening.b++,
    });
    await waitFor(() => listening.b === 1, 'LISTEN on the second channel');
    await notify('hl_test_a', '1');
    await notify('hl_test_b', '2');
    await notify('hl_test_other', '3');
    await waitFor(() => received.length === 2, 'both notifications');
    expect(received.sort()).toEqual(['a:1', 'b:2']);
    const [connection] = await listenerPids();
    expect(await listenerPids()).toHaveLength(1);
    expect(connection?.query).toContain('hl_test_a');
    expect(connection?.query).toContain('hl_test_b');

    // A lost connection: every subscriber is told to re-check once it listens again.
    await db.database.pool.query('select pg_terminate_backend($1)', [connection?.pid]);
    await waitFor(() => listening.a === 2 && listening.b === 2, 're-LISTEN after the loss');
    received.length = 0;
    await notify('hl_test_a', '4');
    await notify('hl_test_b', '5');
    await waitFor(() => received.length === 2, 'notifications after reconnecting');
    expect(received.sort()).toEqual(['a:4', 'b:5']);
    await hub.stop();
    await waitFor(async () => (await listenerPids()).length === 0, 'the connection closed');
  });

  it('stops dispatching to a subscriber that unsubscribed', async () => {
    const hub = new Notifications({ connection: db.database.pool.options, onError: () => {} });
    const received: string[] = [];
    let ready = false;
    const unsubscribe = hub.subscribe('hl_test_c', {
      onNotification: (payload) => received.push(payload ?? ''),
      onListening: () => {
        ready = true;
      },
    });
    hub.start();
    await waitFor(() => ready, 'LISTEN');
    await notify('hl_test_c', 'kept');
    await waitFor(() => received.length === 1, 'the first notification');
    unsubscribe();
    let marker = false;
    let markerListening = false;
    hub.subscribe('hl_test_d', {
      onNotification: () => {
        marker = true;
      },
      onListening: () => {
        markerListening = true;
      },
    });
    await waitFor(() => markerListening, 'LISTEN on the marker channel');
    await notify('hl_test_c', 'dropped');
    // Notifications arrive in order: once the later one is here, the dropped one was dispatched.
    await notify('hl_test_d', 'marker');
    await waitFor(() => marker, 'the later notification');
    expect(received).toEqual(['kept']);
    await hub.stop();
  });
});
