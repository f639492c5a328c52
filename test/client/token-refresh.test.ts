import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenRefresher, tokenTimes } from '../../client/token-refresh.js';
import { mintDevRealtimeToken } from '../../server/realtime/tokens.js';
import { TEST_SECRETS, useTestApp } from '../support/app.js';
import { testDatabaseKinds } from '../support/databases.js';
import { mintToken } from '../support/realtime.js';
import { waitFor } from '../support/wait.js';

describe.each(testDatabaseKinds())('createTokenRefresher against a real gateway on %s', (kind) => {
  const t = useTestApp(kind);
  let baseUrl: string;
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });

  it('renews the token before it expires, keeping its accounts, and again after that', async () => {
    const first = await mintToken(t.app, ['acc-a'], 120);
    const seen: string[] = [];
    // Refresh when 120 s or less are left: at once, and again right after each renewal.
    const refresher = createTokenRefresher({
      baseUrl,
      token: first,
      refreshBeforeSeconds: 120,
      onToken: (token) => seen.push(token),
    });
    try {
      await waitFor(() => seen.length >= 2, 'two renewals');
      expect(refresher.current()).toBe(seen.at(-1));
      const claims = decodeJwt(refresher.current());
      expect(claims.acc).toEqual(['acc-a']);
      expect(claims.jti).not.toBe(decodeJwt(first).jti);
      expect(claims.exp! - claims.iat!).toBe(120);
    } finally {
      refresher.stop();
    }
  });

  it('says when the token can no longer be renewed', async () => {
    const { token: foreign } = await mintDevRealtimeToken(`${TEST_SECRETS.realtimeJwtSecret}-other`, 120);
    let expired = false;
    const refresher = createTokenRefresher({
      baseUrl,
      token: foreign,
      refreshBeforeSeconds: 120,
      onExpired: () => {
        expired = true;
      },
    });
    try {
      await waitFor(() => expired, 'onExpired');
      expect(refresher.current()).toBe(foreign);
    } finally {
      refresher.stop();
    }
  });

  it('reads exp and iat without verifying, and nothing from a non-token', () => {
    expect(tokenTimes('not a token')).toBeUndefined();
  });
});
