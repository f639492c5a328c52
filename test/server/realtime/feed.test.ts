import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import * as schema from '../../../drizzle/schema.js';
import { LISTENER_APPLICATION_NAME } from '../../../server/db/notifications.js';
import { queryRows } from '../../../server/db/rows.js';
import { publishToOutboxes } from '../../../server/outbound/index.js';
import { RealtimeFeed } from '../../../server/realtime/feed.js';
import { REALTIME_CHANNEL } from '../../../server/realtime/index.js';
import type { RealtimeEventRow } from '../../../server/realtime/queries/realtime-reads.js';
import { describePostgres, requireTestDatabaseUrl } from '../../support/databases.js';
import {
  appendEvents,
  messageNew,
  metricValue,
  mintToken,
  useInstancesOnOneDatabase,
} from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl } from '../../support/ws-client.js';

describePostgres('realtime across instances on one Postgres', () => {
  const instances = useInstancesOnOneDatabase();
  const startInstance = instances.start;

  it('delivers an event committed through one instance to a client of the other', async () => {
    const writer = await startInstance();
    const reader = await startInstance();
    const token = await mintToken(reader, ['acc-multi']);
    const client = await connectClient(messagesUrl(reader, { token }));
    const seq = await appendEvents(writer, [messageNew('acc-multi', 1)]);
    const [event] = await client.waitForEvents(1);
    expect(event).toMatchObject({ type: 'message:new', seq, data: { accountId: 'acc-multi' } });
    await client.close();
    for (const app of instances.apps.splice(0)) await app.close();
  });

  it('recovers a killed LISTEN connection and catches up on events committed while it was down', async () => {
    const app = await startInstance();
    const token = await mintToken(app, ['acc-listen']);
    const client = await connectClient(messagesUrl(app, { token }));
    const databaseName = new URL(instances.source.url).pathname.slice(1);

    // Another "instance": a plain connection that commits the way ingest does, with no in-process signal.
    const admin = new pg.Client({ connectionString: instances.source.url });
    // ALTER DATABASE cannot disallow connections to the database it runs in.
    const maintenance = new pg.Client({ connectionString: requireTestDatabaseUrl() });
    await Promise.all([admin.connect(), maintenance.connect()]);
    const allowConnections = (allow: boolean) =>
      maintenance.query(
        `alter database ${pg.escapeIdentifier(databaseName)} with allow_connections ${allow ? 'true' : 'false'}`,
      );
    try {
      const other = drizzle(admin, { schema });
      const listenerPid = async () => {
        const rows = await queryRows<{ pid: number }>(
          other,
          // The outbound worker LISTENs with the same application_name: pick the realtime channel's.
          sql`select pid from pg_stat_activity where datname = ${databaseName} and application_name = ${LISTENER_APPLICATION_NAME} and query like ${`%${REALTIME_CHANNEL}%`}`,
        );
        return rows[0]?.pid;
      };
      const before = await waitFor(listenerPid, 'the listener connection');
      const reconnectsBefore = await metricValue(app, 'hookline_realtime_listener_reconnects_total');

      // Keep it from reconnecting until the events below are committed, so only catch-up can deliver them.
      await allowConnections(false);
      await other.execute(sql`select pg_terminate_backend(${before})`);
      await waitFor(
        async () =>
          (await metricValue(app, 'hookline_realtime_listener_reconnects_total')) > reconnectsBefore + 1,
        'a failed reconnection attempt',
      );
      let last = 0;
      for (let n = 0; n < 5; n++) {
        last =
          (
            await other.transaction((tx) =>
              publishToOutboxes(tx, { realtime: [messageNew('acc-listen', n)] }),
            )
          ).realtimeSeq ?? 0;
      }
      expect(client.events()).toEqual([]);
      await allowConnections(true);

      await waitFor(() => client.events().at(-1)?.seq === last, 'catch-up after reconnecting');
      expect(client.events().map((event) => event.data?.messageId)).toEqual(
        [0, 1, 2, 3, 4].map((n) => `msg-acc-listen-${n}`),
      );
      const after = await waitFor(listenerPid, 'the new listener connection');
      expect(after).not.toBe(before);

      // Live again through NOTIFY alone.
      const { realtimeSeq: live } = await other.transaction((tx) =>
        publishToOutboxes(tx, { realtime: [messageNew('acc-listen', 5)] }),
      );
      await waitFor(() => client.events().at(-1)?.seq === live, 'a live event after recovery');
    } finally {
      await allowConnections(true);
      await Promise.all([admin.end(), maintenance.end()]);
    }
    await client.close();
  });
});

describe('RealtimeFeed reads', () => {
  function feedOver(rows: RealtimeEventRow[], subscribers: { count: number }) {
    const reads: number[] = [];
    const published: number[] = [];
    const feed = new RealtimeFeed(
      {
        read: async (afterSeq, limit) => {
          reads.push(afterSeq);
          return rows.filter((row) => row.seq > afterSeq).slice(0, limit);
        },
        publish: (page) => published.push(...page.map((row) => row.seq)),
        onError: (error) => {
          throw error;
        },
        pageSize: 2,
        hasSubscribers: () => subscribers.count > 0,
      },
      0,
    );
    return { feed, reads, published };
  }
  const row = (seq: number): RealtimeEventRow => ({
    seq,
    accountId: 'acc',
    type: 'message:new',
    data: {},
    createdAt: new Date(),
  });

  it('takes a commit hint as read, without reading, while no socket is connected', async () => {
    const subscribers = { count: 0 };
    const { feed, reads, published } = feedOver([1, 2, 3].map(row), subscribers);
    feed.wake(3);
    await feed.idle();
    expect({ reads, published, lastSeen: feed.lastSeen }).toEqual({ reads: [], published: [], lastSeen: 3 });

    subscribers.count = 1;
    feed.wake(5);
    await feed.idle();
    expect(reads).toEqual([3]);
  });

  it('reads page by page from the last seq it published when sockets are connected', async () => {
    const { feed, reads, published } = feedOver([1, 2, 3, 5].map(row), { count: 1 });
    feed.wake(5);
    await feed.idle();
    expect(published).toEqual([1, 2, 3, 5]);
    expect(reads).toEqual([0, 2, 5]);
  });

  it('reads on a wake-up without a hint (the poll) even with no socket connected', async () => {
    const { feed, reads } = feedOver([row(1)], { count: 0 });
    feed.wake();
    await feed.idle();
    expect(reads).toEqual([0]);
    expect(feed.lastSeen).toBe(1);
  });
});
