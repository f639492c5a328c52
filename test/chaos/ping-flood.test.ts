import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, requireTestDatabaseUrl } from '../support/databases.js';
import { maskedFrames, OPCODE, openNonReadingWebSocket } from '../support/raw-connections.js';
import { waitFor } from '../support/wait.js';
import { type Gateway, startGateway } from './hostile/gateway.js';
import { recordScenario } from './support/results.js';

/** Concurrent flooders: half send `{"type":"ping"}` text frames, half protocol pings. */
const FLOODERS = 4;
/** How long the flood lasts. */
const FLOOD_MS = 20_000;
/** Frames per write; the flooder writes as fast as the gateway's kernel takes them. */
const FRAMES_PER_WRITE = 1000;
/** The flood stops early past this growth: enough to show the leak without exhausting the machine. */
const STOP_AT_GROWTH_BYTES = 1024 * 1024 * 1024;
/**
 * V8 options of the gateway under test. Without a cap V8 enlarges its heap under the flood's
 * allocation rate whether or not anything is retained (on Node 24 its young generation alone grows
 * to 128 MiB, and the whole process by 124 to 174 MiB, against 16 MiB on Node 22). With the heap
 * capped, RSS follows what the gateway holds, and a leak past the cap stops the process.
 */
const GATEWAY_NODE_OPTIONS = '--max-semi-space-size=16 --max-old-space-size=128';
/**
 * Bounded means the growth stops: every socket's unsent bytes are capped (1 MiB) and floods are
 * closed after a burst, so after the first half of the flood RSS may grow by at most this much
 * (unbounded pongs grew the gateway about 13 MiB a second).
 */
const LATE_GROWTH_LIMIT_BYTES = 32 * 1024 * 1024;
/** A ceiling on the whole growth, the capped heap filling up included. */
const GROWTH_LIMIT_BYTES = 160 * 1024 * 1024;
const MiB = 1024 * 1024;

interface FloodStats {
  connections: number;
  refused: number;
  frames: number;
  /** Connections the gateway ended (reset or closed) while the flooder was still writing. */
  endedByGateway: number;
}

async function mintToken(gateway: Gateway, accountId: string): Promise<string> {
  const response = await fetch(`${gateway.url}/api/realtime/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.secrets.api}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accountIds: [accountId] }),
  });
  if (response.status !== 200) throw new Error(`minting failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** A Prometheus counter from the gateway's `/metrics`, 0 when it does not exist. */
async function counter(gateway: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/**
 * One hostile client: opens a socket with a fresh token, writes ping frames without ever reading
 * an answer until the gateway ends the connection, then opens the next, until `until()` is false.
 */
async function flood(
  gateway: Gateway,
  frames: Buffer,
  stats: FloodStats,
  deadline: number,
  until: () => boolean,
) {
  const port = Number(new URL(gateway.url).port);
  while (until()) {
    let socket: Socket;
    try {
      socket = await openNonReadingWebSocket(
        port,
        `/ws/messages?token=${await mintToken(gateway, 'acc_flood')}`,
      );
    } catch {
      stats.refused++;
      continue;
    }
    socket.on('error', () => {});
    // The deadline may pass during the handshake: a socket that never flooded is not counted.
    if (!until()) {
      socket.destroy();
      break;
    }
    stats.connections++;
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    while (!socket.destroyed && until()) {
      stats.frames += FRAMES_PER_WRITE;
      if (!socket.write(frames)) {
        await Promise.race([
          new Promise((resolve) => socket.once('drain', resolve)),
          ended,
          new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()))),
        ]);
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (socket.destroyed) stats.endedByGateway++;
    else socket.destroy();
  }
}

/**
 * Issue 17: clients that flood the gateway with pings and never read the answers. Each pong the
 * gateway owes must count against the socket's buffer cap and each frame against the socket's
 * rate limit, so the gateway's memory stays bounded however long the flood lasts.
 */
describePostgres('ping flood from clients that never read', () => {
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    gateway = await startGateway(requireTestDatabaseUrl(), { NODE_OPTIONS: GATEWAY_NODE_OPTIONS });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it('keeps the gateway RSS bounded and closes every flooding socket', async () => {
    if (!gateway) throw new Error('the gateway starts in beforeAll');
    const g = gateway;
    const baseline = await g.rssBytes();
    let peak = baseline;
    const started = Date.now();
    let stopped = false;
    const deadline = started + FLOOD_MS;
    const halfway = started + FLOOD_MS / 2;
    let peakFirstHalf = baseline;
    const until = () => !stopped && Date.now() < deadline;
    const sampler = setInterval(() => {
      void g.rssBytes().then(
        (rss) => {
          peak = Math.max(peak, rss);
          if (Date.now() < halfway) peakFirstHalf = Math.max(peakFirstHalf, rss);
          if (rss - baseline > STOP_AT_GROWTH_BYTES) stopped = true;
        },
        () => {},
      );
    }, 100);
    const json = { connections: 0, refused: 0, frames: 0, endedByGateway: 0 };
    const protocol = { connections: 0, refused: 0, frames: 0, endedByGateway: 0 };
    const jsonFrames = maskedFrames(OPCODE.text, '{"type":"ping"}', FRAMES_PER_WRITE);
    const protocolFrames = maskedFrames(OPCODE.ping, 'p'.repeat(16), FRAMES_PER_WRITE);
    await Promise.all(
      Array.from({ length: FLOODERS }, (_, index) =>
        index % 2 === 0
          ? flood(g, jsonFrames, json, deadline, until)
          : flood(g, protocolFrames, protocol, deadline, until),
      ),
    );
    clearInterval(sampler);
    const floodSeconds = (Date.now() - started) / 1000;
    peak = Math.max(peak, await g.rssBytes());
    const health = await fetch(`${g.url}/healthz`);
    const connections = json.connections + protocol.connections;
    const closedByLimits = async () =>
      (await counter(g, 'hookline_realtime_rate_limited_total')) +
      (await counter(g, 'hookline_realtime_slow_consumers_total'));
    // The last connections' frames may still be in flight: wait for their close to be counted.
    await waitFor(async () => (await closedByLimits()) >= connections, 'every flood closed').catch(() => {});
    const rateLimited = await counter(g, 'hookline_realtime_rate_limited_total');
    const slowConsumers = await counter(g, 'hookline_realtime_slow_consumers_total');
    const growth = peak - baseline;
    const lateGrowth = peak - peakFirstHalf;
    await recordScenario({
      id: 'ping-flood',
      scenario:
        `${FLOODERS} clients flood one gateway with ping frames (half {"type":"ping"}, half protocol pings) ` +
        `for ${FLOOD_MS / 1000} s and never read; each reconnects with a fresh token when dropped ` +
        `(gateway heap capped: ${GATEWAY_NODE_OPTIONS})`,
      sent: connections,
      acknowledged: rateLimited + slowConsumers,
      stored: null,
      delivered: null,
      lost: 0,
      duplicated: 0,
      notes:
        `sent = flooding connections, acknowledged = closed by the gateway's limits (4429 rate limited: ` +
        `${rateLimited}, 1013 slow consumer: ${slowConsumers}); connections: ${json.connections} text-ping, ` +
        `${protocol.connections} protocol-ping; frames written: ${json.frames} text + ${protocol.frames} ` +
        `protocol pings in ${floodSeconds.toFixed(1)} s; RSS ${Math.round(baseline / MiB)} MiB ` +
        `before, peak growth ${Math.round(growth / MiB)} MiB, of which ${Math.round(lateGrowth / MiB)} MiB ` +
        `after the first ${FLOOD_MS / 2000} s; /healthz after: ${health.status}`,
    });
    expect(g.child.exitCode).toBeNull();
    expect(health.status).toBe(200);
    expect(lateGrowth).toBeLessThan(LATE_GROWTH_LIMIT_BYTES);
    expect(growth).toBeLessThan(GROWTH_LIMIT_BYTES);
    expect(rateLimited + slowConsumers).toBe(connections);
  });
});
