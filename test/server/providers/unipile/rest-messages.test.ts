import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HooklineError } from '../../../../server/errors.js';
import {
  providerAuthFailure,
  UnipileRestClient,
} from '../../../../server/providers/unipile/rest-messages.js';
import { fakeAccount, messageReceived } from '../../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../../tools/fake-unipile/server.js';

describe('Unipile REST client (sync side)', () => {
  let fake: FakeUnipile;
  beforeAll(async () => {
    fake = await startFakeUnipile();
  });
  afterAll(() => fake.close());

  const client = (options: { apiKey?: string; maxAttempts?: number; onRetry?: () => void } = {}) =>
    new UnipileRestClient({
      dsn: fake.url,
      apiKey: options.apiKey ?? fake.apiKey,
      retryMinMs: 2,
      retryMaxMs: 5,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });

  it('pages messages newest first inside exclusive after/before bounds', async () => {
    const account = fakeAccount();
    const base = Date.now() - 3_600_000;
    for (let minute = 0; minute < 5; minute++) {
      fake.history.record(messageReceived({ account, timestamp: new Date(base + minute * 60_000) }));
    }
    const rest = client();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await rest.listMessages({
        accountId: account.id,
        after: new Date(base),
        before: new Date(base + 4 * 60_000),
        cursor,
        limit: 2,
      });
      seen.push(...page.items.map((item) => item.timestamp));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([3, 2, 1].map((minute) => new Date(base + minute * 60_000).toISOString()));
    await rest.close();
  });

  it('backs off and retries throttling (429) and provider failures (5xx)', async () => {
    let retries = 0;
    const rest = client({ onRetry: () => retries++ });
    fake.failNext(1, 429);
    await rest.listAccounts();
    fake.failNext(2, 503);
    await rest.listAccounts();
    expect(retries).toBe(3);
    await rest.close();
  });

  it('gives up after its attempts, with the provider problem as details', async () => {
    const rest = client({ maxAttempts: 2 });
    fake.failNext(2, 500);
    const error = await rest.listAccounts().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HooklineError);
    expect((error as HooklineError).details).toMatchObject({ status: 500, operation: 'GET /accounts' });
    await rest.close();
  });

  it('stops at once on a refused key (401), never retrying', async () => {
    let retries = 0;
    const rest = client({ apiKey: 'wrong', onRetry: () => retries++ });
    const error = await rest.getChat('chat_1').catch((caught: unknown) => caught);
    expect(providerAuthFailure(error)).toBe('unauthorized');
    expect((error as HooklineError).details).toMatchObject({
      type: 'errors/missing_credentials',
      operation: 'GET /chats/{id}',
    });
    expect(JSON.stringify((error as HooklineError).details)).not.toContain('wrong');
    expect(retries).toBe(0);
    await rest.close();
  });
});
