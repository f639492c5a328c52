import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createRealtimeClient,
  type RealtimeClient,
  type RealtimeClientOptions,
} from '../../client/realtime.js';
import { waitFor } from '../support/wait.js';
import { startFakeRealtimeServer } from './fake-realtime-server.js';

const clients: RealtimeClient[] = [];
const servers: { close(): Promise<void> }[] = [];

function client(options: Omit<RealtimeClientOptions, 'WebSocket'>): RealtimeClient {
  const created = createRealtimeClient({
    WebSocket: WebSocket as unknown as RealtimeClientOptions['WebSocket'],
    backoff: { minDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
  clients.push(created);
  return created;
}

async function server(options?: Parameters<typeof startFakeRealtimeServer>[0]) {
  const started = await startFakeRealtimeServer(options);
  servers.push(started);
  return started;
}

afterEach(async () => {
  for (const created of clients.splice(0)) created.close();
  for (const started of servers.splice(0)) await started.close();
});

describe('createRealtimeClient (Node, ws passed in)', () => {
  it('connects with a token, reports open on hello, and delivers envelopes by type', async () => {
    const fake = await server({ sendHello: 7 });
    const realtime = client({ url: fake.url, getToken: () => 'token-1' });
    const seen: number[] = [];
    realtime.on('message:new', (envelope) => seen.push(envelope.seq));
    await waitFor(() => realtime.status.state === 'open', 'open');
    expect(fake.connections[0]!.url.searchParams.get('token')).toBe('token-1');
    expect(fake.connections[0]!.url.searchParams.has('since')).toBe(false);
    expect(realtime.lastSeq).toBe(7);
    fake.connections[0]!.socket.send(fake.envelope(8));
    await waitFor(() => seen.length === 1, 'the envelope');
    expect(seen).toEqual([8]);
  });

  it('reconnects with a fresh token and since=lastSeq, and drops what it already saw', async () => {
    const fake = await server();
    let tokens = 0;
    const realtime = client({ url: fake.url, getToken: () => `token-${++tokens}` });
    const seen: number[] = [];
    realtime.on('event', (envelope) => seen.push(envelope.seq));
    await waitFor(() => realtime.status.state === 'open', 'open');
    const first = fake.connections[0]!.socket;
    for (const seq of [1, 2, 3]) first.send(fake.envelope(seq));
    await waitFor(() => seen.length === 3, 'three envelopes');
    first.close(1013, 'slow consumer');

    await waitFor(() => fake.connections.length === 2, 'the reconnection');
    const second = fake.connections[1]!;
    expect(second.url.searchParams.get('token')).toBe('token-2');
    expect(second.url.searchParams.get('since')).toBe('3');
    for (const seq of [2, 3, 4, 4, 5]) second.socket.send(fake.envelope(seq));
    await waitFor(() => seen.length === 5, 'the resumed envelopes');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('asks a url function before every connection, so it can fail over to another instance', async () => {
    const first = await server();
    const second = await server();
    let target = first.url;
    const realtime = client({ url: () => target, getToken: () => 't' });
    const seen: number[] = [];
    realtime.on('event', (envelope) => seen.push(envelope.seq));
    await waitFor(() => realtime.status.state === 'open', 'open');
    first.connections[0]!.socket.send(first.envelope(4));
    await waitFor(() => seen.length === 1, 'the first envelope');
    target = second.url;
    first.connections[0]!.socket.terminate();

    await waitFor(() => second.connections.length === 1, 'the connection to the second instance');
    expect(second.connections[0]!.url.searchParams.get('since')).toBe('4');
    expect(first.connections).toHaveLength(1);
  });

  it('reports reconnecting with the delay before each attempt, then open again', async () => {
    const fake = await server();
    const realtime = client({ url: fake.url, getToken: () => 't' });
    const states: string[] = [];
    realtime.on('status', (status) =>
      states.push(status.state === 'reconnecting' ? `reconnecting:${status.delayMs >= 5}` : status.state),
    );
    await waitFor(() => realtime.status.state === 'open', 'open');
    fake.connections[0]!.socket.close(1001, 'server shutting down');
    await waitFor(() => fake.connections.length === 2 && realtime.status.state === 'open', 'open again');
    expect(states).toEqual(['connecting', 'open', 'reconnecting:true', 'open']);
  });

  it('surfaces reset and resumes from the server’s seq', async () => {
    const fake = await server({ sendHello: false });
    const realtime = client({ url: fake.url, getToken: () => 't', since: 3 });
    const resets: number[] = [];
    realtime.on('reset', (reset) => resets.push(reset.seq));
    await waitFor(() => fake.connections.length === 1, 'a connection');
    expect(fake.connections[0]!.url.searchParams.get('since')).toBe('3');
    fake.connections[0]!.socket.send(JSON.stringify({ type: 'hello', seq: 900, reset: true }));
    await waitFor(() => resets.length === 1, 'the reset');
    expect(resets).toEqual([900]);
    expect(realtime.lastSeq).toBe(900);
  });

  it('sends heartbeats and reconnects when neither an event nor a pong arrives in time', async () => {
    const fake = await server({ answerPings: false });
    const realtime = client({
      url: fake.url,
      getToken: () => 't',
      heartbeatIntervalMs: 30,
      heartbeatTimeoutMs: 120,
    });
    await waitFor(() => realtime.status.state === 'open', 'open');
    await waitFor(() => fake.connections.length >= 2, 'a reconnection after the heartbeat timeout');
    expect(fake.connections[0]!.received).toContainEqual({ type: 'ping' });
  });

  it('stays connected while pongs arrive', async () => {
    const fake = await server();
    const realtime = client({
      url: fake.url,
      getToken: () => 't',
      heartbeatIntervalMs: 20,
      heartbeatTimeoutMs: 2000,
    });
    await waitFor(() => realtime.status.state === 'open', 'open');
    await waitFor(() => fake.connections[0]!.received.length >= 10, 'ten pings');
    expect(fake.connections).toHaveLength(1);
  });

  it('never replays stale frames after a reconnection', async () => {
    const fake = await server({ answerPings: false });
    const realtime = client({
      url: fake.url,
      getToken: () => 't',
      heartbeatIntervalMs: 20,
      heartbeatTimeoutMs: 10_000,
    });
    await waitFor(() => realtime.status.state === 'open', 'open');
    fake.connections[0]!.socket.terminate();
    await waitFor(() => fake.connections.length === 2 && realtime.status.state === 'open', 'reconnected');
    await new Promise((resolve) => setTimeout(resolve, 30));
    // At most the pings of its own interval: nothing queued while disconnected comes out in a burst.
    expect(fake.connections[1]!.received.length).toBeLessThanOrEqual(3);
  });

  it('backs off and asks again when getToken fails, without connecting tokenless', async () => {
    const fake = await server();
    let calls = 0;
    const realtime = client({
      url: fake.url,
      getToken: () => {
        calls++;
        if (calls < 3) throw new Error('backend down');
        return 'finally';
      },
    });
    await waitFor(() => realtime.status.state === 'open', 'open');
    expect(fake.connections).toHaveLength(1);
    expect(fake.connections[0]!.url.searchParams.get('token')).toBe('finally');
  });

  it('close() stops for good', async () => {
    const fake = await server();
    const realtime = client({ url: fake.url, getToken: () => 't' });
    await waitFor(() => realtime.status.state === 'open', 'open');
    realtime.close();
    expect(realtime.status).toEqual({ state: 'closed' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.connections).toHaveLength(1);
  });
});
