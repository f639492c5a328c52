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
});
