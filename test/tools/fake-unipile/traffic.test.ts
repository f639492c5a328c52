import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGING_EVENTS } from '../../../tools/fake-unipile/payloads.js';
import { runTraffic } from '../../../tools/fake-unipile/traffic.js';
import { runScript } from '../../support/processes.js';

const SECRET = 'traffic-test-inbound-secret';

interface Arrival {
  auth: string | undefined;
  contentType: string | undefined;
  raw: string;
  body: Record<string, unknown>;
  status: number;
}

/**
 * A small real receiver in place of the gateway's ingest route: `decide` picks each answer from
 * the body and how often that exact body was seen; `undefined` never answers (a timeout).
 */
async function withReceiver<T>(
  decide: (raw: string, seenBefore: number) => number | undefined,
  work: (target: string, arrivals: Arrival[]) => Promise<T>,
): Promise<T> {
  const arrivals: Arrival[] = [];
  const seen = new Map<string, number>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const before = seen.get(raw) ?? 0;
      seen.set(raw, before + 1);
      const auth = request.headers['unipile-auth'];
      const status = auth === SECRET ? decide(raw, before) : 401;
      if (status === undefined) return;
      arrivals.push({
        auth: typeof auth === 'string' ? auth : undefined,
        contentType: request.headers['content-type'],
        raw,
        body: JSON.parse(raw) as Record<string, unknown>,
        status,
      });
      response.statusCode = status;
      response.end(JSON.stringify({ ok: status === 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await work(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const fastRetries = { retryDelayMs: 1, timeoutMs: 5000 };

describe('the traffic generator', () => {
  it('sends every event type, duplicates and bursts, retrying 503s until each is acknowledged', async () => {
    // Every body's first arrival is refused with 503 one time in five: the generator must retry it.
    const refuseFirst = (raw: string, seenBefore: number) =>
      seenBefore === 0 && raw.length % 5 === 0 ? 503 : 200;
    await withReceiver(refuseFirst, async (target, arrivals) => {
      const summary = await runTraffic({
        target,
        secret: SECRET,
        rate: 200,
        durationSeconds: 1,
        burstChance: 0.2,
        delivery: fastRetries,
      });
      expect(summary).toMatchObject({ sent: 200, acknowledged: 200, failed: 0 });
      const refused = arrivals.filter((arrival) => arrival.status === 503).length;
      expect(refused).toBeGreaterThan(0);
      expect(summary.retried).toBe(refused);
      expect(summary.byStatus).toEqual({ '200': 200, '503': refused });
      expect(summary.byKind.duplicate).toBeGreaterThan(0);
      expect(summary.byKind['out-of-order']).toBeGreaterThan(0);

      expect(arrivals.every((arrival) => arrival.contentType === 'application/json')).toBe(true);
      const events = new Set(arrivals.map((arrival) => arrival.body.event ?? 'AccountStatus'));
      expect([...events].sort()).toEqual([...MESSAGING_EVENTS, 'AccountStatus'].sort());
      const acknowledgedBodies = new Map<string, number>();
      for (const arrival of arrivals.filter((candidate) => candidate.status === 200)) {
        acknowledgedBodies.set(arrival.raw, (acknowledgedBodies.get(arrival.raw) ?? 0) + 1);
      }
      expect([...acknowledgedBodies.values()].some((count) => count > 1)).toBe(true);
    });
  });

  it('sends a follow-up before the message it is about', async () => {
    await withReceiver(
      () => 200,
      async (target, arrivals) => {
        await runTraffic({ target, secret: SECRET, rate: 100, durationSeconds: 0.2, concurrency: 1 });
        const firstReceived = new Map<unknown, number>();
        arrivals.forEach((arrival, index) => {
          if (arrival.body.event === 'message_received' && !firstReceived.has(arrival.body.message_id)) {
            firstReceived.set(arrival.body.message_id, index);
          }
        });
        const early = arrivals.filter(
          (arrival, index) =>
            arrival.body.event !== 'message_received' &&
            arrival.body.message_id !== undefined &&
            (firstReceived.get(arrival.body.message_id) ?? -1) > index,
        );
        expect(early.length).toBeGreaterThan(0);
      },
    );
  });

  it('gives up on a webhook after five retries and counts it failed', async () => {
    await withReceiver(
      () => 500,
      async (target) => {
        const summary = await runTraffic({
          target,
          secret: SECRET,
          rate: 10,
          durationSeconds: 0.3,
          delivery: fastRetries,
        });
        expect(summary).toMatchObject({ sent: 3, acknowledged: 0, failed: 3, retried: 15 });
        expect(summary.byStatus).toEqual({ '500': 18 });
      },
    );
  });

  it('counts an attempt without an answer within the timeout as a timeout and retries it', async () => {
    await withReceiver(
      (_raw, seenBefore) => (seenBefore === 0 ? undefined : 200),
      async (target) => {
        const summary = await runTraffic({
          target,
          secret: SECRET,
          rate: 10,
          durationSeconds: 0.2,
          delivery: { retryDelayMs: 1, timeoutMs: 1000 },
        });
        expect(summary).toMatchObject({ sent: 2, acknowledged: 2, failed: 0, retried: 2 });
        expect(summary.byStatus).toEqual({ '200': 2, timeout: 2 });
      },
    );
  });

  it('runs as `npm run fake-provider`, reading the secret from DATA_DIR/secrets.json', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hookline-traffic-'));
    await writeFile(join(dataDir, 'secrets.json'), JSON.stringify({ INBOUND_SECRET: SECRET }));
    await withReceiver(
      () => 200,
      async (target, arrivals) => {
        const { code, stdout, stderr } = await runScript('tools/fake-unipile/traffic-cli.ts', [
          ...['--target', target, '--rate', '20', '--duration', '0.5', '--data-dir', dataDir],
        ]);
        const output = `${stdout}${stderr}`;
        expect(code, output).toBe(0);
        expect(output).toContain('acknowledged 10, retried 0 attempts, failed 0');
        expect(output).toContain('attempts by status: 200=10');
        expect(arrivals).toHaveLength(10);
      },
    );
  });
});
