import type { FastifyInstance } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertLoginCode } from '../../../server/realtime/queries/realtime-sessions.js';
import { apiAuth, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { describePostgres } from '../../support/databases.js';
import { useInstancesOnOneDatabase } from '../../support/realtime.js';
import { connectClient, expectRefusal, messagesUrl } from '../../support/ws-client.js';

interface SessionAnswer {
  token: string;
  expiresAt: string;
  sessionId: string;
  sessionExpiresAt: string;
}

async function openSession(app: FastifyInstance, payload: object): Promise<SessionAnswer> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/realtime/tokens',
    headers: apiAuth,
    payload,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as SessionAnswer;
}

const refresh = (app: FastifyInstance, token: string) =>
  app.inject({
    method: 'POST',
    url: '/api/realtime/tokens/refresh',
    headers: { authorization: `Bearer ${token}` },
  });

const readChats = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/api/chats', headers: { authorization: `Bearer ${token}` } });

const revoke = (app: FastifyInstance, sessionId: string) =>
  app.inject({ method: 'DELETE', url: `/api/realtime/sessions/${sessionId}`, headers: apiAuth });

describe.each(['postgres'] as const)('realtime sessions on %s', (kind) => {
  const t = useTestApp(kind, {
    env: { REALTIME_SESSION_MAX_SECONDS: '7200', REALTIME_MAX_CONNECTIONS_PER_TOKEN: '2' },
  });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('opens a session with the first token: sessionId, sessionExpiresAt and the sid claim', async () => {
    const before = Date.now();
    const answer = await openSession(t.app, {
      accountIds: ['acc-a'],
      ttlSeconds: 600,
      sessionTtlSeconds: 3600,
    });
    expect(answer.sessionId).toMatch(/^ses_/);
    const sessionEnd = Date.parse(answer.sessionExpiresAt);
    expect(sessionEnd).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(decodeJwt(answer.token)).toMatchObject({ sid: answer.sessionId, sxp: sessionEnd / 1000 });
  });

  it('refuses a sessionTtlSeconds above REALTIME_SESSION_MAX_SECONDS with 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/realtime/tokens',
      headers: apiAuth,
      payload: { accountIds: ['acc-a'], sessionTtlSeconds: 7201 },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('refreshes within the session: the successor never expires after the session ends', async () => {
    const answer = await openSession(t.app, {
      accountIds: ['acc-a'],
      ttlSeconds: 3600,
      sessionTtlSeconds: 120,
    });
    expect(Date.parse(answer.expiresAt)).toBe(Date.parse(answer.sessionExpiresAt));
    const next = await refresh(t.app, answer.token);
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({
      sessionId: answer.sessionId,
      sessionExpiresAt: answer.sessionExpiresAt,
    });
    expect(Date.parse(next.json().expiresAt)).toBeLessThanOrEqual(Date.parse(answer.sessionExpiresAt));
  });

  it('answers 401 to a token of a session that has ended, even one whose own expiry is later', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ acc: ['acc-a'], scp: ['read'], sid: 'ses_ended', sxp: now - 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hookline')
      .setAudience('hookline:realtime')
      .setJti('ended-1')
      .setIssuedAt(now - 600)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(TEST_SECRETS.realtimeJwtSecret));
    for (const response of [await refresh(t.app, token), await readChats(t.app, token)]) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    }
    expect((await expectRefusal(messagesUrl(t.app, { token }))).status).toBe(401);
  });

  it('refuses to refresh a token minted without a session', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ all: true, scp: ['read', 'send'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hookline')
      .setAudience('hookline:realtime')
      .setJti('legacy-1')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(TEST_SECRETS.realtimeJwtSecret));
    const response = await refresh(t.app, token);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.details).toEqual({ reason: 'no_session' });
  });

  it('revokes a session: 204, then 401 on REST, refresh and upgrade, and its sockets close with 4003', async () => {
    const answer = await openSession(t.app, { accountIds: ['acc-rev'], ttlSeconds: 600 });
    const successor = (await refresh(t.app, answer.token)).json().token as string;
    const client = await connectClient(messagesUrl(t.app, { token: successor }));
    expect((await readChats(t.app, answer.token)).statusCode).toBe(200);

    expect((await revoke(t.app, answer.sessionId)).statusCode).toBe(204);
    expect(await client.closed).toBe(4003);
    for (const token of [answer.token, successor]) {
      for (const response of [await readChats(t.app, token), await refresh(t.app, token)]) {
        expect(response.statusCode).toBe(401);
        expect(response.json().error.details).toEqual({ reason: 'revoked' });
      }
      const refusal = await expectRefusal(messagesUrl(t.app, { token }));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error.details?.reason).toBe('revoked');
    }
    expect((await revoke(t.app, 'ses_unknown')).statusCode).toBe(404);
    expect((await revoke(t.app, answer.sessionId)).statusCode).toBe(204);
  });

  it('lists live sessions, by account, without revoked ones; the API token is required', async () => {
    const kept = await openSession(t.app, {
      accountIds: ['acc-list', 'acc-other'],
      scopes: ['read', 'send'],
    });
    const gone = await openSession(t.app, { accountIds: ['acc-list'] });
    await openSession(t.app, { accountIds: ['acc-elsewhere'] });
    await revoke(t.app, gone.sessionId);
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/realtime/sessions?accountId=acc-list',
      headers: apiAuth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().items).toEqual([
      {
        sessionId: kept.sessionId,
        accountIds: ['acc-list', 'acc-other'],
        scopes: ['read', 'send'],
        origin: 'api',
        createdAt: expect.any(String),
        expiresAt: kept.sessionExpiresAt,
      },
    ]);
    expect((await t.app.inject({ method: 'GET', url: '/api/realtime/sessions' })).statusCode).toBe(401);
  });

  it('counts REALTIME_MAX_CONNECTIONS_PER_TOKEN per session: refreshed successors share the cap', async () => {
    const answer = await openSession(t.app, { accountIds: ['acc-cap'], ttlSeconds: 600 });
    const clients = [];
    let token = answer.token;
    for (let index = 0; index < 2; index++) {
      clients.push(await connectClient(messagesUrl(t.app, { token })));
      token = (await refresh(t.app, token)).json().token as string;
    }
    const refusal = await expectRefusal(messagesUrl(t.app, { token }));
    expect(refusal.status).toBe(429);
    expect(refusal.body.error.code).toBe('HL_ERR_RATE_LIMITED');
    await Promise.all(clients.map((client) => client.close()));
  });
});

describe.each(['postgres'] as const)('inbox login codes on %s', (kind) => {
  const t = useTestApp(kind, { env: { INBOX_SESSION_SECONDS: '3600' } });

  const login = (code: string) =>
    t.app.inject({ method: 'POST', url: '/api/realtime/login', payload: { code } });

  it('exchanges a code once for an all-accounts session; a used, expired or unknown code gets 401', async () => {
    const issued = await t.app.inject({ method: 'POST', url: '/api/realtime/login-codes', headers: apiAuth });
    expect(issued.statusCode).toBe(201);
    const { code, url } = issued.json() as { code: string; url: string };
    expect(new URL(url).searchParams.get('code')).toBe(code);

    const first = await login(code);
    expect(first.statusCode).toBe(200);
    const session = first.json() as SessionAnswer;
    expect(decodeJwt(session.token)).toMatchObject({
      all: true,
      scp: ['read', 'send'],
      sid: session.sessionId,
    });
    expect(Date.parse(session.sessionExpiresAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect(Date.parse(session.sessionExpiresAt) - Date.now()).toBeLessThanOrEqual(3_600_000);

    const again = await login(code);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.details).toEqual({ reason: 'used' });

    const { createHash } = await import('node:crypto');
    const stale = 'stale-code-0123456789';
    await insertLoginCode(
      t.app.database.db,
      createHash('sha256').update(stale).digest('hex'),
      new Date(Date.now() - 1000),
    );
    expect((await login(stale)).json().error.details).toEqual({ reason: 'expired' });
    expect((await login('never-issued')).json().error.details).toEqual({ reason: 'unknown' });
  });

  it('issues codes only for the API token', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/realtime/login-codes' });
    expect(response.statusCode).toBe(401);
  });
});

describePostgres('session revocation across instances', () => {
  const instances = useInstancesOnOneDatabase();
  const startInstance = instances.start;

  it('closes the sockets and refuses the tokens of a session revoked through another instance', async () => {
    const revoker = await startInstance();
    const holder = await startInstance();
    const answer = await openSession(holder, { accountIds: ['acc-far'], ttlSeconds: 600 });
    const client = await connectClient(messagesUrl(holder, { token: answer.token }));
    expect((await revoke(revoker, answer.sessionId)).statusCode).toBe(204);
    expect(await client.closed).toBe(4003);
    const response = await readChats(holder, answer.token);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.details).toEqual({ reason: 'revoked' });
  });
});
