import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../../server/ops/logger.js';
import { UnipileClient } from '../../../../server/providers/unipile/client.js';
import { desiredWebhooks } from '../../../../server/providers/unipile/reconcile.js';
import { RegistrationLoop } from '../../../../server/providers/unipile/registration.js';
import { startFakeUnipile } from '../../../../tools/fake-unipile/server.js';

const silent = createLogger({ level: 'silent' });

describe('RegistrationLoop', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs off on a refused key to one attempt every 10 minutes, one line each without a stack', async () => {
    const fake = await startFakeUnipile({ apiKey: 'loop-test-key' });
    fake.misbehave.set({ refuseKey: true });
    const client = new UnipileClient({ dsn: fake.url, apiKey: 'loop-test-key', timeoutMs: 2000 });
    const lines: { retryInMs?: number; refusedKey?: string; err?: unknown }[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const loop = new RegistrationLoop({ client, logger, retryMinMs: 60_000, retryMaxMs: 60_000 });
    try {
      loop.start(
        desiredWebhooks({ baseUrl: 'https://a.example', inboundSecret: 'secret', instance: 'test' }),
      );
      await vi.advanceTimersByTimeAsync(0);
      for (let attempt = 1; attempt <= 8; attempt++) {
        await vi.waitFor(() => expect(loop.status.attempts).toBe(attempt), { timeout: 10_000, interval: 1 });
        // Exactly the delay the loop announced: the next attempt, and only it, comes due.
        await vi.advanceTimersByTimeAsync(lines.at(-1)?.retryInMs ?? 0);
      }
      expect(loop.status).toMatchObject({ state: 'failed', refusedKey: 'unauthorized' });
      expect(lines.length).toBeGreaterThanOrEqual(8);
      for (const line of lines) expect(line).toMatchObject({ refusedKey: 'unauthorized' });
      for (const line of lines) expect(line.err).toBeUndefined();
      // Past UNIPILE_RETRY_MAX_MS (60 s here), up to 10 minutes, never more.
      const delays = lines.map((line) => line.retryInMs ?? 0);
      expect(Math.max(...delays)).toBeGreaterThan(60_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(600_000);
      await loop.stop();
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('retries while the provider fails, and never again once stopped', async () => {
    const fake = await startFakeUnipile({ apiKey: 'loop-test-key', failures: { count: 1000, status: 503 } });
    const client = new UnipileClient({ dsn: fake.url, apiKey: 'loop-test-key', timeoutMs: 2000 });
    const listCalls = vi.spyOn(client, 'listWebhooks');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const loop = new RegistrationLoop({ client, logger: silent, retryMinMs: 60_000, retryMaxMs: 60_000 });
    try {
      loop.start(
        desiredWebhooks({ baseUrl: 'https://a.example', inboundSecret: 'secret', instance: 'test' }),
      );
      await vi.advanceTimersByTimeAsync(0);
      await vi.waitFor(() => expect(loop.status.attempts).toBe(1), { timeout: 10_000, interval: 1 });
      expect(loop.status).toMatchObject({ state: 'pending', reason: expect.stringContaining('503') });

      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(loop.status.attempts).toBe(2), { timeout: 10_000, interval: 1 });
      expect(listCalls).toHaveBeenCalledTimes(2);

      await loop.stop();
      await vi.advanceTimersByTimeAsync(600_000);
      expect(listCalls).toHaveBeenCalledTimes(2);
    } finally {
      await client.close();
      await fake.close();
    }
  });
  it('checks again once registered, recreating a webhook the provider disabled meanwhile', async () => {
    const fake = await startFakeUnipile({ apiKey: 'loop-test-key' });
    const client = new UnipileClient({ dsn: fake.url, apiKey: 'loop-test-key', timeoutMs: 2000 });
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    const loop = new RegistrationLoop({ client, logger, retryMinMs: 10, retryMaxMs: 10, recheckMs: 50 });
    try {
      loop.start(
        desiredWebhooks({ baseUrl: 'https://a.example', inboundSecret: 'secret', instance: 'test' }),
      );
      await vi.waitFor(() => expect(loop.status.state).toBe('ok'), { timeout: 10_000, interval: 5 });
      const [messaging] = loop.status.webhooks!;
      await vi.waitFor(() => expect(loop.status.attempts).toBeGreaterThan(2), {
        timeout: 10_000,
        interval: 5,
      });
      // Checks that find everything in place create nothing and log nothing at info level.
      expect(fake.state.operations.filter((op) => op.op === 'create')).toHaveLength(2);
      expect(lines.filter((line) => line.includes('registered with Unipile'))).toHaveLength(1);

      fake.disableWebhook(messaging!.webhookId);
      await vi.waitFor(() => expect(fake.state.webhooks.every((webhook) => webhook.enabled)).toBe(true), {
        timeout: 10_000,
        interval: 5,
      });
      expect(fake.state.webhooks.map((webhook) => webhook.id)).not.toContain(messaging!.webhookId);
      await vi.waitFor(() =>
        expect(
          lines.some((line) => line.includes('found disabled') && line.includes(messaging!.webhookId)),
        ).toBe(true),
      );
    } finally {
      await loop.stop();
      await client.close();
      await fake.close();
    }
  });
});
