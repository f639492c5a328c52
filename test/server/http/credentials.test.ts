import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authFailuresPlugin } from '../../../server/http/auth-failures.js';
import type { RealtimeGrant } from '../../../server/http/connection-grant.js';
import {
  type Caller,
  type CredentialsOptions,
  callerAccounts,
  credentialsPlugin,
  requires,
} from '../../../server/http/credentials.js';
import { errorHandlerPlugin } from '../../../server/http/error-handler.js';
import { OPENAPI_PATH } from '../../../server/openapi/plugin.js';
import { mintRealtimeToken, sessionRevoked, verifyRealtimeToken } from '../../../server/realtime/tokens.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';

const SECRET = 'credentials-test-jwt-secret-0123456789abcdef';
const OPTIONS: CredentialsOptions = {
  apiToken: 'credentials-test-api-token',
  webhook: { header: 'X-Provider-Auth', secret: 'credentials-test-webhook-secret' },
  metricsToken: 'credentials-test-metrics-token',
};
const REVOKED_SESSION = 'ses_revoked';

/** Verifies like the realtime sessions do: the real token check, and one revoked session. */
async function verify(token: string | undefined): Promise<RealtimeGrant> {
  const grant = await verifyRealtimeToken(SECRET, token);
  if (grant.session?.id === REVOKED_SESSION) throw sessionRevoked();
  return grant;
}

const session = (id: string) => ({ id, expiresAt: new Date(Date.now() + 3_600_000) });
const token = async (scopes: ('read' | 'send')[], sessionId = 'ses_live') =>
  (await mintRealtimeToken(SECRET, ['acc-a'], 3600, scopes, session(sessionId))).token;
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

/** What a route answers: who the plugin decided the caller is. */
const whoCalls = async (request: FastifyRequest) => ({ caller: describeCaller(request.caller) });
function describeCaller(caller: Caller | null) {
  if (caller?.kind !== 'token') return caller;
  return { kind: 'token', accounts: callerAccounts(caller), session: caller.grant.session?.id };
}

async function testApp(options: CredentialsOptions, verifier = true): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(errorHandlerPlugin);
  await app.register(authFailuresPlugin, { limit: 1000, windowMs: 60_000 });
  await app.register(credentialsPlugin, options);
  if (verifier) app.setTokenVerifier(verify);
  return app;
}

describe('the credentials plugin', () => {
  let app: FastifyInstance;
  let bodiesRead = 0;

  beforeAll(async () => {
    app = await testApp(OPTIONS);
    app.addContentTypeParser('application/x-probe', { parseAs: 'string' }, (_request, body, done) => {
      bodiesRead++;
      done(null, body);
    });
    app.get('/api-only', { config: requires('api') }, whoCalls);
    app.post('/api-only', { config: requires('api') }, whoCalls);
    app.get('/reader', { config: requires('api', 'read') }, whoCalls);
    app.get('/sender', { config: requires('api', 'send') }, whoCalls);
    app.get('/token-only', { config: requires('read') }, whoCalls);
    app.get('/socket', { config: { credentials: { accepts: ['read'], tokenIn: 'query' } } }, whoCalls);
    app.post('/webhook', { config: requires('webhook') }, whoCalls);
    app.get('/metrics', { config: requires('metrics') }, whoCalls);
    app.get('/public', { config: requires('none') }, whoCalls);
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers });
  const refusal = async (url: string, headers: Record<string, string> = {}) => {
    const answer = await get(url, headers);
    return {
      status: answer.statusCode,
      code: answer.json().error?.code,
      reason: answer.json().error?.details?.reason,
    };
  };

  it('decides an API caller from the API token', async () => {
    expect((await get('/api-only', bearer(OPTIONS.apiToken))).json()).toEqual({ caller: { kind: 'api' } });
    expect((await get('/reader', bearer(OPTIONS.apiToken))).json()).toEqual({ caller: { kind: 'api' } });
    expect((await get('/sender', bearer(OPTIONS.apiToken))).json()).toEqual({ caller: { kind: 'api' } });
  });

  it('decides a token caller, with its accounts and session, from a connection token', async () => {
    const expected = { caller: { kind: 'token', accounts: ['acc-a'], session: 'ses_live' } };
    expect((await get('/reader', bearer(await token(['read'])))).json()).toEqual(expected);
    expect((await get('/sender', bearer(await token(['read', 'send'])))).json()).toEqual(expected);
    expect((await get('/token-only', bearer(await token(['read'])))).json()).toEqual(expected);
    expect((await get(`/socket?token=${await token(['read'])}`)).json()).toEqual(expected);
  });

  it('decides the provider from its webhook header and a scraper from METRICS_TOKEN', async () => {
    const webhook = await app.inject({
      method: 'POST',
      url: '/webhook',
      headers: { 'x-provider-auth': OPTIONS.webhook.secret },
    });
    expect(webhook.json()).toEqual({ caller: { kind: 'webhook' } });
    expect((await get('/metrics', bearer(OPTIONS.metricsToken!))).json()).toEqual({
      caller: { kind: 'metrics' },
    });
  });

  it('leaves a route that requires none open, with no caller', async () => {
    expect((await get('/public')).json()).toEqual({ caller: null });
    expect((await get('/public', bearer('anything'))).json()).toEqual({ caller: null });
  });

  it('refuses missing or wrong credentials with 401 HL_ERR_UNAUTHORIZED', async () => {
    const unauthorized = { status: 401, code: 'HL_ERR_UNAUTHORIZED' };
    expect(await refusal('/api-only')).toMatchObject(unauthorized);
    expect(await refusal('/api-only', bearer('wrong'))).toMatchObject(unauthorized);
    expect(await refusal('/api-only', { authorization: OPTIONS.apiToken })).toMatchObject(unauthorized);
    expect(await refusal('/reader')).toMatchObject(unauthorized);
    expect(await refusal('/metrics', bearer(OPTIONS.apiToken))).toMatchObject(unauthorized);
    const webhook = await app.inject({
      method: 'POST',
      url: '/webhook',
      headers: { 'x-provider-auth': 'wrong' },
    });
    expect(webhook.statusCode).toBe(401);
    expect(webhook.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it('accepts a connection token only where the route says so, and the API token only there too', async () => {
    expect(await refusal('/api-only', bearer(await token(['read', 'send'])))).toMatchObject({ status: 401 });
    expect(await refusal('/token-only', bearer(OPTIONS.apiToken))).toMatchObject({
      status: 401,
      reason: 'invalid',
    });
    const webhook = await app.inject({ method: 'POST', url: '/webhook', headers: bearer(OPTIONS.apiToken) });
    expect(webhook.statusCode).toBe(401);
  });

  it("says why a connection token is refused: missing, invalid, expired, or its session's revoked", async () => {
    expect(await refusal('/socket')).toMatchObject({ status: 401, reason: 'missing' });
    expect(await refusal('/reader', bearer('forged'))).toMatchObject({ status: 401, reason: 'invalid' });
    const expired = await mintRealtimeToken(SECRET, ['acc-a'], -60, ['read'], session('ses_live'));
    expect(await refusal('/reader', bearer(expired.token))).toMatchObject({ status: 401, reason: 'expired' });
    const revoked = await token(['read', 'send'], REVOKED_SESSION);
    expect(await refusal('/reader', bearer(revoked))).toMatchObject({ status: 401, reason: 'revoked' });
    expect(await refusal(`/socket?token=${revoked}`)).toMatchObject({ status: 401, reason: 'revoked' });
  });

  it('refuses a valid token without the send scope with 403 HL_ERR_FORBIDDEN', async () => {
    expect(await refusal('/sender', bearer(await token(['read'])))).toEqual({
      status: 403,
      code: 'HL_ERR_FORBIDDEN',
      reason: undefined,
    });
  });

  it('refuses before the body is read, and closes a connection that still has one coming', async () => {
    const before = bodiesRead;
    const refused = await app.inject({
      method: 'POST',
      url: '/api-only',
      headers: { ...bearer('wrong'), 'content-type': 'application/x-probe' },
      payload: 'a body nobody reads',
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers.connection).toBe('close');
    expect(bodiesRead).toBe(before);
    const accepted = await app.inject({
      method: 'POST',
      url: '/api-only',
      headers: { ...bearer(OPTIONS.apiToken), 'content-type': 'application/x-probe' },
      payload: 'read this one',
    });
    expect(accepted.statusCode).toBe(200);
    expect(bodiesRead).toBe(before + 1);
  });
});

describe('route declarations', () => {
  it('stop the app from starting when a route declares nothing', async () => {
    const app = await testApp(OPTIONS);
    app.get('/declared', { config: requires('api') }, whoCalls);
    app.get('/forgotten', whoCalls);
    await expect(app.ready()).rejects.toMatchObject({ code: 'HL_ERR_CONFIG', message: /GET \/forgotten/ });
  });

  it('stop the app from starting when routes take connection tokens and nothing verifies them', async () => {
    const app = await testApp(OPTIONS, false);
    app.get('/reader', { config: requires('api', 'read') }, whoCalls);
    await expect(app.ready()).rejects.toMatchObject({ code: 'HL_ERR_CONFIG' });
  });

  it('leave a route requiring METRICS_TOKEN open when none is set', async () => {
    const { metricsToken: _unset, ...withoutMetrics } = OPTIONS;
    const app = await testApp(withoutMetrics);
    app.get('/metrics', { config: requires('metrics') }, whoCalls);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).json()).toEqual({ caller: null });
    await app.close();
  });
});

describe('callerAccounts', () => {
  const grant = (scope: RealtimeGrant['scope']): Caller => ({
    kind: 'token',
    grant: { scope, tokenId: 't', expiresAt: 0 },
  });

  it('is every account for the API token or an all-accounts token, and none without a caller', () => {
    expect(callerAccounts({ kind: 'api' })).toBeUndefined();
    expect(callerAccounts(grant({ kind: 'all' }))).toBeUndefined();
    expect(callerAccounts(grant({ kind: 'accounts', accountIds: ['a', 'b'] }))).toEqual(['a', 'b']);
    expect(callerAccounts(null)).toEqual([]);
    expect(callerAccounts({ kind: 'webhook' })).toEqual([]);
  });
});

type Operations = Record<string, { security?: unknown[] }>;

describe.each(testDatabaseKinds().slice(0, 1))(
  'the gateway enforces what its API document says (%s)',
  (kind) => {
    const t = useTestApp(kind);

    it('answers 401 without credentials exactly on the operations documented with a security requirement', async () => {
      const document = (await t.app.inject({ method: 'GET', url: OPENAPI_PATH })).json() as {
        paths: Record<string, Operations>;
      };
      const mismatched: string[] = [];
      let probes = 0;
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          const url = path.replaceAll(/\{[^}]+\}/g, 'x1');
          // Each from its own address, so that the failed authentications stay under the limit.
          probes++;
          const remoteAddress = `10.32.${Math.floor(probes / 250)}.${probes % 250}`;
          const answer = await t.app.inject({ method: method.toUpperCase() as 'GET', url, remoteAddress });
          const secured = (operation.security?.length ?? 0) > 0;
          if (secured !== (answer.statusCode === 401)) {
            mismatched.push(`${method.toUpperCase()} ${path}: ${answer.statusCode}, security ${secured}`);
          }
        }
      }
      expect(mismatched).toEqual([]);
      // And the documented credential opens it.
      expect(
        (await t.app.inject({ method: 'GET', url: '/api/endpoints', headers: apiAuth })).statusCode,
      ).toBe(200);
    });
  },
);
