import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintRealtimeToken } from '../../../server/realtime/tokens.js';
import { buildTestApp, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { appendEvents, messageNew, metricValue, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl } from '../../support/ws-client.js';

describe.each(testDatabaseKinds())('realtime plugin on %s', (kind) => {
  describe('heartbeat and token expiry', () => {
    const t = useTestApp(kind, { env: { REALTIME_HEARTBEAT_INTERVAL_MS: '100' } });

    beforeAll(async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
    });

    it('keeps a client that answers pings, and terminates one that does not', async () => {
      const token = await mintToken(t.app, ['acc-a']);
      const answering = await connectClient(messagesUrl(t.app, { token }));
      const silent = await connectClient(messagesUrl(t.app, { token }), { autoPong: false });
      let pings = 0;
      answering.socket.on('ping', () => pings++);
      expect(await silent.closed).toBe(1006);
      await waitFor(() => pings >= 3, 'three heartbeats');
      expect(answering.socket.readyState).toBe(answering.socket.OPEN);
      await answering.close();
    });

    it('closes with 4001 when the connection token expires', async () => {
      const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, ['acc-a'], 2);
      const client = await connectClient(messagesUrl(t.app, { token }));
      expect(await client.closed).toBe(4001);
    });

    it('counts connections and messages sent in /metrics', async () => {
      const token = await mintToken(t.app, ['acc-metrics']);
      const before = await metricValue(t.app, 'hookline_realtime_messages_sent_total');
      const client = await connectClient(messagesUrl(t.app, { token }));
      expect(await metricValue(t.app, 'hookline_realtime_connections')).toBe(1);
      await appendEvents(t.app, [messageNew('acc-metrics', 1), messageNew('acc-metrics', 2)]);
      await client.waitForEvents(2);
      expect(await metricValue(t.app, 'hookline_realtime_messages_sent_total')).toBe(before + 2);
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/hookline_realtime_fanout_latency_seconds_count [1-9]/);
      expect(text).toContain('hookline_realtime_slow_consumers_total 0');
      await client.close();
      await waitFor(
        async () => (await metricValue(t.app, 'hookline_realtime_connections')) === 0,
        'gauge back to 0',
      );
    });
  });

  describe('shutdown', () => {
    const db = useTestDatabase(kind);
    let app: Awaited<ReturnType<typeof buildTestApp>> | undefined;

    afterAll(async () => {
      await app?.close();
    });

    it('closes every socket with 1001 so clients reconnect elsewhere', async () => {
      app = await buildTestApp(db.current.database);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const clients = await Promise.all(
        ['acc-a', 'acc-b'].map(async (account) =>
          connectClient(messagesUrl(app!, { token: await mintToken(app!, [account]) })),
        ),
      );
      await app.close();
      expect(await Promise.all(clients.map((client) => client.closed))).toEqual([1001, 1001]);
    });
  });
});
