import fc from 'fast-check';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintDevRealtimeToken, verifyRealtimeToken } from '../../../server/realtime/tokens.js';
import { apiAuth, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';

const valid = { accountIds: ['acc-a', 'acc-b'], ttlSeconds: 600 };

describe.each(testDatabaseKinds())('POST /api/realtime/tokens on %s', (kind) => {
  const t = useTestApp(kind, { env: { REALTIME_TOKEN_MAX_TTL_SECONDS: '3600' } });

  const mint = (payload: unknown, headers: Record<string, string> = apiAuth) =>
    t.app.inject({ method: 'POST', url: '/api/realtime/tokens', headers, payload: payload as object });

  it('mints an HS256 token scoped to the accounts, expiring after ttlSeconds', async () => {
    const response = await mint(valid);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; expiresAt: string; accountIds: string[] };
    expect(body.accountIds).toEqual(['acc-a', 'acc-b']);
    const claims = decodeJwt(body.token);
    expect(claims.acc).toEqual(['acc-a', 'acc-b']);
    expect(claims.all).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(new Date(body.expiresAt).getTime()).toBe(claims.exp! * 1000);
    const grant = await verifyRealtimeToken(TEST_SECRETS.realtimeJwtSecret, body.token);
    expect(grant.scope).toEqual({ kind: 'accounts', accountIds: ['acc-a', 'acc-b'] });
  });

  it('requires the API token', async () => {
    const response = await mint(valid, {});
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it.each([
    ['accountIds missing', { ttlSeconds: 600 }],
    ['accountIds empty', { ...valid, accountIds: [] }],
    ['an empty account id', { ...valid, accountIds: [''] }],
    ['an account id that is not a string', { ...valid, accountIds: [42] }],
    ['more than 100 accounts', { ...valid, accountIds: Array.from({ length: 101 }, (_, i) => `acc-${i}`) }],
    ['ttlSeconds below 60', { ...valid, ttlSeconds: 59 }],
    ['ttlSeconds above the configured maximum', { ...valid, ttlSeconds: 3601 }],
    ['ttlSeconds not whole', { ...valid, ttlSeconds: 60.5 }],
    ['an unknown field (such as a wildcard claim)', { ...valid, all: true }],
  ])('answers 400 HL_ERR_INVALID_REQUEST for %s', async (_name, payload) => {
    const response = await mint(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('never answers 5xx whatever the JSON body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (payload) => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/realtime/tokens',
          headers: { ...apiAuth, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 50 },
    );
  });
});

describe.each(testDatabaseKinds())('POST /api/realtime/tokens/refresh on %s', (kind) => {
  const t = useTestApp(kind, { env: { REALTIME_TOKEN_MAX_TTL_SECONDS: '3600' } });
  const secret = TEST_SECRETS.realtimeJwtSecret;

  const refresh = (token: string | undefined) =>
    t.app.inject({
      method: 'POST',
      url: '/api/realtime/tokens/refresh',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  it('mints the successor of a valid token: same accounts, a new id, a fresh expiry as long', async () => {
    const minted = await t.app.inject({
      method: 'POST',
      url: '/api/realtime/tokens',
      headers: apiAuth,
      payload: { accountIds: ['acc-a', 'acc-b'], ttlSeconds: 600 },
    });
    const first = minted.json().token as string;
    const response = await refresh(first);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { token: string; expiresAt: string; accountIds: string[] };
    expect(body.accountIds).toEqual(['acc-a', 'acc-b']);
    const before = decodeJwt(first);
    const after = decodeJwt(body.token);
    expect(after.acc).toEqual(['acc-a', 'acc-b']);
    expect(after.jti).not.toBe(before.jti);
    expect(after.exp! - after.iat!).toBe(600);
    expect(after.exp!).toBeGreaterThanOrEqual(before.exp!);
    expect(new Date(body.expiresAt).getTime()).toBe(after.exp! * 1000);
    const grant = await verifyRealtimeToken(secret, body.token);
    expect(grant.scope).toEqual({ kind: 'accounts', accountIds: ['acc-a', 'acc-b'] });
  });

  it('keeps every claim the token has (an all-accounts inbox token, scopes, session)', async () => {
    const session = { id: 'ses_claims', expiresAt: new Date(Date.now() + 3_600_000) };
    const { token: dev } = await mintDevRealtimeToken(secret, 900, session);
    const fromDev = await refresh(dev);
    expect(fromDev.statusCode).toBe(200);
    expect(fromDev.json().accountIds).toBeNull();
    expect(decodeJwt(fromDev.json().token)).toMatchObject({ all: true });
    expect(decodeJwt(fromDev.json().token).acc).toBeUndefined();

    const sxp = Math.floor(session.expiresAt.getTime() / 1000);
    const scoped = await new SignJWT({ acc: ['acc-a'], scopes: ['read', 'send'], sid: 'ses_claims', sxp })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hookline')
      .setAudience('hookline:realtime')
      .setJti('scoped-1')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));
    const fromScoped = await refresh(scoped);
    expect(fromScoped.statusCode).toBe(200);
    expect(decodeJwt(fromScoped.json().token)).toMatchObject({
      acc: ['acc-a'],
      scopes: ['read', 'send'],
      sid: 'ses_claims',
      sxp,
    });
  });

  it('refuses a missing, forged, expired or API token with 401, body unread', async () => {
    const expired = await new SignJWT({ acc: ['acc-a'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hookline')
      .setAudience('hookline:realtime')
      .setJti('old')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(secret));
    const forged = (await mintDevRealtimeToken('another-secret-0123456789abcdef0123', 900)).token;
    for (const token of [undefined, forged, expired, TEST_SECRETS.apiToken]) {
      const response = await refresh(token);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    }
    const expiredAnswer = await refresh(expired);
    expect(expiredAnswer.json().error.details).toEqual({ reason: 'expired' });
  });
});
