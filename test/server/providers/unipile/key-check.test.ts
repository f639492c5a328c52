import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUnipileKey } from '../../../../server/providers/unipile/index.js';
import { type FakeUnipile, startFakeUnipile } from '../../../../tools/fake-unipile/server.js';

describe('the start-up check of UNIPILE_API_KEY', () => {
  let fake: FakeUnipile;
  beforeAll(async () => {
    fake = await startFakeUnipile({ apiKey: 'right-key' });
  });
  afterAll(() => fake.close());
  const config = (dsn: string | undefined, key: string | undefined) => ({
    UNIPILE_DSN: dsn,
    UNIPILE_API_KEY: key,
    UNIPILE_TIMEOUT_MS: 2000,
  });

  it('has nothing to check without UNIPILE_DSN', async () => {
    expect(await checkUnipileKey(config(undefined, undefined))).toEqual({ state: 'not-configured' });
  });

  it('refuses UNIPILE_DSN without a key, and a key the provider refuses', async () => {
    await expect(checkUnipileKey(config(fake.url, undefined))).rejects.toMatchObject({
      code: 'HL_ERR_PROVIDER_KEY_MISSING',
      setting: 'UNIPILE_API_KEY',
    });
    await expect(checkUnipileKey(config(fake.url, 'wrong-key'))).rejects.toMatchObject({
      code: 'HL_ERR_PROVIDER_KEY_REFUSED',
      setting: 'UNIPILE_API_KEY',
    });
  });

  it('accepts the right key', async () => {
    expect(await checkUnipileKey(config(fake.url, 'right-key'))).toEqual({ state: 'accepted' });
  });

  it('lets the start go on when the provider cannot say (failing on its side): registration retries', async () => {
    fake.failNext(1, 503);
    expect(await checkUnipileKey(config(fake.url, 'right-key'))).toMatchObject({ state: 'unverified' });
  });
});
