import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HooklineError } from '../../../../server/errors.js';
import {
  isTransientProviderError,
  UnipileClient,
  unipileBaseUrl,
} from '../../../../server/providers/unipile/client.js';
import { type FakeUnipile, startFakeUnipile } from '../../../../tools/fake-unipile/server.js';

const API_KEY = 'client-test-api-key-0123456789';

async function providerError(promise: Promise<unknown>): Promise<HooklineError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HooklineError);
  expect((error as HooklineError).code).toBe('HL_ERR_PROVIDER');
  return error as HooklineError;
}

describe('unipileBaseUrl', () => {
  it('turns host:port into the https API v1 base', () => {
    expect(unipileBaseUrl('api8.unipile.com:13443')).toBe('https://api8.unipile.com:13443/api/v1');
  });

  it('uses a full URL as given, adding /api/v1 only when it has no path', () => {
    expect(unipileBaseUrl('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010/api/v1');
    expect(unipileBaseUrl('http://127.0.0.1:4010/')).toBe('http://127.0.0.1:4010/api/v1');
    expect(unipileBaseUrl('https://proxy.example.com/unipile/api/v1')).toBe(
      'https://proxy.example.com/unipile/api/v1',
    );
  });
});

describe('UnipileClient against the fake provider', () => {
  let fake: FakeUnipile;
  let client: UnipileClient;

  beforeAll(async () => {
    fake = await startFakeUnipile({ apiKey: API_KEY, pageSize: 2 });
    client = new UnipileClient({ dsn: fake.url, apiKey: API_KEY, timeoutMs: 2000 });
  });

  afterAll(async () => {
    await client?.close();
    await fake?.close();
  });

  it('creates, lists and deletes webhooks', async () => {
    const id = await client.createWebhook({
      request_url: 'https://hooks.example.com/api/webhooks/unipile/messages',
      source: 'messaging',
      name: 'client-test',
      format: 'json',
      headers: [{ key: 'Content-Type', value: 'application/json' }],
    });
    expect((await client.listWebhooks()).map((webhook) => webhook.id)).toContain(id);
    await client.deleteWebhook(id);
    expect((await client.listWebhooks()).map((webhook) => webhook.id)).not.toContain(id);
  });

  it('follows the cursor across three pages', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'].map(
      (name) => fake.addWebhook({ name: `page-${name}`, request_url: `https://x.example/${name}` }).id,
    );
    const before = fake.state.requests.filter((request) => request.method === 'GET').length;
    const listed = await client.listWebhooks();
    const pages = fake.state.requests.filter((request) => request.method === 'GET').length - before;
    expect(pages).toBe(3);
    expect(listed.map((webhook) => webhook.id)).toEqual(ids);
    for (const id of ids) await client.deleteWebhook(id);
  });

  it('a 404 carries the problem body and is not transient', async () => {
    const error = await providerError(client.deleteWebhook('wh_missing'));
    expect(error.details).toMatchObject({
      status: 404,
      type: 'errors/resource_not_found',
      title: expect.any(String),
      detail: expect.any(String),
      operation: 'DELETE /webhooks/wh_missing',
    });
    expect(isTransientProviderError(error)).toBe(false);
  });

  it('a wrong key is a 401 missing_credentials that never shows the key it sent', async () => {
    const wrongKey = 'wrong-api-key-that-must-not-leak';
    const other = new UnipileClient({ dsn: fake.url, apiKey: wrongKey, timeoutMs: 2000 });
    try {
      const error = await providerError(other.listWebhooks());
      expect(error.details).toMatchObject({ status: 401, type: 'errors/missing_credentials' });
      expect(isTransientProviderError(error)).toBe(false);
      const shown = JSON.stringify({ message: error.message, details: error.details, stack: error.stack });
      expect(shown).not.toContain(wrongKey);
    } finally {
      await other.close();
    }
  });

  it('a provider-side 5xx is transient', async () => {
    fake.failNext(1, 503);
    const error = await providerError(client.listWebhooks());
    expect(error.details).toMatchObject({ status: 503, type: 'errors/unexpected_error' });
    expect(isTransientProviderError(error)).toBe(true);
  });

  it('a call slower than the timeout fails as transient', async () => {
    const impatient = new UnipileClient({ dsn: fake.url, apiKey: API_KEY, timeoutMs: 100 });
    fake.setLatency(1000);
    try {
      const error = await providerError(impatient.listWebhooks());
      expect(error.details).not.toHaveProperty('status');
      expect(isTransientProviderError(error)).toBe(true);
    } finally {
      fake.setLatency(0);
      await impatient.close();
    }
  });

  it('an unreachable provider is transient', async () => {
    const closed = await startFakeUnipile({ apiKey: API_KEY });
    const url = closed.url;
    await closed.close();
    const unreachable = new UnipileClient({ dsn: url, apiKey: API_KEY, timeoutMs: 2000 });
    try {
      const error = await providerError(unreachable.listWebhooks());
      expect(error.details).toMatchObject({ operation: 'GET /webhooks' });
      expect(isTransientProviderError(error)).toBe(true);
    } finally {
      await unreachable.close();
    }
  });
});
