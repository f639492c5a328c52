import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeHub } from '../../../server/realtime/hub.js';
import { createRealtimeMetrics } from '../../../server/realtime/metrics.js';
import { Subscriber } from '../../../server/realtime/subscriber.js';
import { waitFor } from '../../support/wait.js';

const LIMITS = {
  maxBufferedBytes: 1 << 20,
  maxUnknownFrames: 3,
  clientFrameBurst: 20,
  clientFramesPerSecond: 2,
};
const EVENTS = { onSent: () => {}, onSlowConsumer: () => {}, onRateLimited: () => {}, onClosed: () => {} };
const NOW = 1_000_000;

describe('RealtimeHub heartbeat', () => {
  let server: WebSocketServer;
  const accepted: WebSocket[] = [];
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (socket) => accepted.push(socket));
    await new Promise((resolve) => server.once('listening', resolve));
  });

  afterAll(async () => {
    for (const client of clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  /** `count` subscribers on real sockets; `expiresAt` per index (default far ahead). */
  async function subscribers(count: number, expiresAt: (index: number) => number = () => NOW + 3600) {
    const port = (server.address() as AddressInfo).port;
    const before = accepted.length;
    for (let i = 0; i < count; i++) {
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      clients.push(client);
      await new Promise((resolve) => client.once('open', resolve));
    }
    await waitFor(() => accepted.length === before + count, 'the server accepts every socket');
    return accepted.slice(before).map(
      (socket, i) =>
        new Subscriber(
          socket,
          {
            scope: { kind: 'accounts', accountIds: ['acc-a'] },
            tokenId: `t${i}`,
            expiresAt: expiresAt(i),
          },
          LIMITS,
          EVENTS,
        ),
    );
  }

  it('visits each socket once per round, a slice at a time', async () => {
    const hub = new RealtimeHub(createRealtimeMetrics(new Registry()));
    const all = await subscribers(10);
    for (const subscriber of all) hub.add(subscriber);

    hub.heartbeatSlice(NOW, 5);
    expect(all.map((subscriber) => subscriber.alive)).toEqual([false, false, ...Array(8).fill(true)]);
    for (let slice = 1; slice < 5; slice++) hub.heartbeatSlice(NOW, 5);
    expect(all.every((subscriber) => !subscriber.alive)).toBe(true);

    // The pongs arrive; the next round starts over with the sockets open now.
    await waitFor(() => all.every((subscriber) => subscriber.alive), 'every socket answers its ping');
    hub.heartbeatSlice(NOW, 5);
    expect(all.filter((subscriber) => !subscriber.alive)).toHaveLength(2);
  });

  it('terminates a socket that missed its pong, closes one whose token expired, and skips one removed mid-round', async () => {
    const hub = new RealtimeHub(createRealtimeMetrics(new Registry()));
    const [silent, expired, removed, healthy] = await subscribers(4, (i) => (i === 1 ? NOW - 1 : NOW + 3600));
    for (const subscriber of [silent, expired, removed, healthy]) hub.add(subscriber!);
    silent!.alive = false;
    removed!.alive = false;

    hub.heartbeatSlice(NOW, 4);
    hub.remove(removed!);
    for (let slice = 1; slice < 4; slice++) hub.heartbeatSlice(NOW, 4);

    await waitFor(() => silent!.socket.readyState === WebSocket.CLOSED, 'the silent socket is terminated');
    await waitFor(() => expired!.socket.readyState === WebSocket.CLOSED, 'the expired socket is closed');
    expect(removed!.socket.readyState).toBe(WebSocket.OPEN);
    expect(healthy!.socket.readyState).toBe(WebSocket.OPEN);
  });
});
