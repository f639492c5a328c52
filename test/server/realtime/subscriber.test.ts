import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { appendEvents, messageNew, metricValue, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl } from '../../support/ws-client.js';

const CAP = 64 * 1024;
const TEXT = 'x'.repeat(8 * 1024);
const BATCH = 50;
/** The largest payload a control frame may carry: each pong echoes it. */
const PING_PAYLOAD = Buffer.alloc(125, 'p');
/** The cap is checked before each page the shared reader publishes: here one batch per page. */
const BOUND = CAP + BATCH * (TEXT.length + 1024);

describe.each(testDatabaseKinds())('slow consumers on %s', (kind) => {
  const t = useTestApp(kind, { env: { REALTIME_MAX_BUFFERED_BYTES: String(CAP) } });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('closes a client that stops reading with 1013, its unsent bytes bounded by the cap plus one page', async () => {
    const token = await mintToken(t.app, ['acc-slow']);
    // The server's side of each connection (ws does not track them: the gateway's hub does).
    const serverSockets = new Set<WebSocket>();
    t.app.websocketServer.on('connection', (socket: WebSocket) => {
      serverSockets.add(socket);
      socket.once('close', () => serverSockets.delete(socket));
    });
    const slow = await connectClient(messagesUrl(t.app, { token }));
    const healthy = await connectClient(messagesUrl(t.app, { token }));
    slow.socket.pause();

    // Up to 16 MiB: far more than the bound plus both kernels' socket buffers.
    let peak = 0;
    let last = 0;
    for (
      let batch = 0;
      batch < 40 && (await metricValue(t.app, 'hookline_realtime_slow_consumers_total')) === 0;
      batch++
    ) {
      last = await appendEvents(
        t.app,
        Array.from({ length: BATCH }, (_, i) => messageNew('acc-slow', batch * BATCH + i, TEXT)),
      );
      for (const socket of serverSockets) peak = Math.max(peak, socket.bufferedAmount);
      // The healthy client keeps up; the slow one falls further behind with every batch.
      await waitFor(() => healthy.events().at(-1)?.seq === last, 'the healthy client keeps up');
    }
    await waitFor(
      async () => (await metricValue(t.app, 'hookline_realtime_slow_consumers_total')) === 1,
      'the slow consumer is dropped',
    );
    slow.socket.resume();
    expect(await slow.closed).toBe(1013);
    expect(peak).toBeLessThanOrEqual(BOUND);

    await waitFor(() => serverSockets.size === 1, 'the server forgets the slow socket');
    expect(await metricValue(t.app, 'hookline_realtime_connections')).toBe(1);
    expect(await metricValue(t.app, 'hookline_realtime_slow_consumers_total')).toBe(1);
    await healthy.close();
  });
});

/**
 * Sends `send()` in rounds until the server counts one more slow consumer than `before`
 * (bounded: far beyond what the kernels' socket buffers hold).
 */
async function floodUntilDropped(app: FastifyInstance, before: number, send: () => void): Promise<void> {
  for (
    let round = 0;
    round < 400 && (await metricValue(app, 'hookline_realtime_slow_consumers_total')) === before;
    round++
  ) {
    for (let frame = 0; frame < 1000; frame++) send();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// Frames, not storage: one database kind is enough.
describe('pongs to a client that never reads', () => {
  // No rate limit to speak of: only the buffer cap can stop this flood.
  const t = useTestApp('postgres', {
    env: {
      REALTIME_MAX_BUFFERED_BYTES: '1024',
      REALTIME_CLIENT_FRAME_BURST: '1000000',
      REALTIME_CLIENT_FRAME_RATE: '1000000',
    },
  });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('closes a client that sends protocol pings and never reads with 1013', async () => {
    const before = await metricValue(t.app, 'hookline_realtime_slow_consumers_total');
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-pings']) }));
    client.socket.pause();
    await floodUntilDropped(t.app, before, () => client.socket.ping(PING_PAYLOAD));
    expect(await metricValue(t.app, 'hookline_realtime_slow_consumers_total')).toBe(before + 1);
    client.socket.resume();
    expect(await client.closed).toBe(1013);
  });

  it('drops a client over the cap at its next {"type":"ping"}, not at the next page of events', async () => {
    const before = await metricValue(t.app, 'hookline_realtime_slow_consumers_total');
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-json']) }));
    client.socket.pause();
    // One page of 8 MiB: written whole (the cap is checked before a page), far more than the
    // kernels' socket buffers take, so the socket's unsent bytes stay above the cap.
    const sent = await metricValue(t.app, 'hookline_realtime_messages_sent_total');
    await appendEvents(
      t.app,
      Array.from({ length: 16 }, (_, n) => messageNew('acc-json', n, 'x'.repeat(512 * 1024))),
    );
    await waitFor(
      async () => (await metricValue(t.app, 'hookline_realtime_messages_sent_total')) === sent + 16,
      'the page is written',
    );
    expect(await metricValue(t.app, 'hookline_realtime_slow_consumers_total')).toBe(before);
    client.socket.send('{"type":"ping"}');
    await waitFor(
      async () => (await metricValue(t.app, 'hookline_realtime_slow_consumers_total')) === before + 1,
      'the pong finds the socket over its cap',
    );
    client.socket.resume();
    expect(await client.closed).toBe(1013);
  });
});

describe('client frame rate limit', () => {
  const t = useTestApp('postgres', {
    env: { REALTIME_CLIENT_FRAME_BURST: '5', REALTIME_CLIENT_FRAME_RATE: '1' },
  });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it.each([
    ['{"type":"ping"} frames', (socket: WebSocket) => socket.send('{"type":"ping"}')],
    ['protocol pings', (socket: WebSocket) => socket.ping()],
    ['protocol pongs', (socket: WebSocket) => socket.pong()],
  ])('answers a burst of %s, then closes the flooding socket with 4429', async (_name, send) => {
    const before = await metricValue(t.app, 'hookline_realtime_rate_limited_total');
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-rate']) }));
    for (let frame = 0; frame < 200; frame++) send(client.socket);
    expect(await client.closed).toBe(4429);
    expect(client.frames.filter((frame) => frame.type === 'pong').length).toBeLessThan(200);
    expect(await metricValue(t.app, 'hookline_realtime_rate_limited_total')).toBe(before + 1);
  });

  it('keeps answering a client that stays within its burst', async () => {
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-rate']) }));
    for (let frame = 0; frame < 5; frame++) client.socket.send('{"type":"ping"}');
    await waitFor(() => client.frames.filter((frame) => frame.type === 'pong').length === 5, 'five pongs');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });
});
