import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../../server/providers/unipile/index.js';
import { apiAuth, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { mintToken } from '../../support/realtime.js';

const LIMIT = 3;

type Inject = InjectOptions;

/** Every authenticated surface, with wrong credentials. */
const WRONG: Record<string, Inject> = {
  'the management API': { method: 'GET', url: '/api/endpoints', headers: { authorization: 'Bearer wrong' } },
  'the read API': { method: 'GET', url: '/api/chats', headers: { authorization: 'Bearer wrong' } },
  'the socket upgrade': { method: 'GET', url: '/ws/messages?token=forged' },
  'the webhook route': {
    method: 'POST',
    url: UNIPILE_WEBHOOK_PATH,
    headers: { 'unipile-auth': 'wrong' },
    payload: '{}',
  },
  'the token refresh': {
    method: 'POST',
    url: '/api/realtime/tokens/refresh',
    headers: { authorization: 'Bearer forged' },
  },
};

describe.each(testDatabaseKinds())('failed authentication is rate limited per address on %s', (kind) => {
  const t = useTestApp(kind, {
    env: { AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_SECONDS: '600' },
  });
  let token: string;
  beforeAll(async () => {
    token = await mintToken(t.app, ['acc-a']);
  });

  const from = (remoteAddress: string, options: Inject) => t.app.inject({ ...options, remoteAddress });

  it.each(Object.entries(WRONG))(
    'answers 401, then 429 HL_ERR_AUTH_RATE_LIMITED with Retry-After, on %s',
    async (surface, wrong) => {
      const address = `10.1.${Object.keys(WRONG).indexOf(surface)}.1`;
      for (let attempt = 0; attempt < LIMIT; attempt++) {
        expect((await from(address, wrong)).statusCode).toBe(401);
      }
      const limited = await from(address, wrong);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('HL_ERR_AUTH_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected.
      expect((await from(address.replace(/1$/, '2'), wrong)).statusCode).toBe(401);
    },
  );

  it('counts failures on every surface together, and never limits correct credentials', async () => {
    const address = '10.2.0.1';
    for (const wrong of Object.values(WRONG)) await from(address, wrong);
    expect((await from(address, WRONG['the read API']!)).statusCode).toBe(429);

    const api = await from(address, { method: 'GET', url: '/api/endpoints', headers: apiAuth });
    expect(api.statusCode).toBe(200);
    const reader = await from(address, {
      method: 'GET',
      url: '/api/chats',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reader.statusCode).toBe(200);
    const webhook = await from(address, {
      method: 'POST',
      url: UNIPILE_WEBHOOK_PATH,
      headers: { 'unipile-auth': TEST_SECRETS.inboundSecret },
      payload: '{not json',
    });
    expect(webhook.statusCode).toBe(400);
    const refresh = await from(address, {
      method: 'POST',
      url: '/api/realtime/tokens/refresh',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refresh.statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: the socket address is the client', async () => {
    for (let attempt = 0; attempt <= LIMIT; attempt++) {
      await from('10.3.0.1', {
        ...WRONG['the management API']!,
        headers: { authorization: 'Bearer wrong', 'x-forwarded-for': `192.0.2.${attempt}` },
      });
    }
    const next = await from('10.3.0.1', {
      ...WRONG['the management API']!,
      headers: { authorization: 'Bearer wrong', 'x-forwarded-for': '192.0.2.200' },
    });
    expect(next.statusCode).toBe(429);
  });
});

describe.each(testDatabaseKinds())('TRUST_PROXY on %s', (kind) => {
  const t = useTestApp(kind, {
    env: { AUTH_FAILURE_LIMIT: '1', AUTH_FAILURE_WINDOW_SECONDS: '600', TRUST_PROXY: '10.0.0.0/8' },
  });
  const wrong = (remoteAddress: string, forwardedFor: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/endpoints',
      remoteAddress,
      headers: { authorization: 'Bearer wrong', 'x-forwarded-for': forwardedFor },
    });

  it('takes the client address from a trusted proxy’s X-Forwarded-For, and only from it', async () => {
    expect((await wrong('10.0.0.5', '198.51.100.1')).statusCode).toBe(401);
    expect((await wrong('10.0.0.6', '198.51.100.1')).statusCode).toBe(429);
    // A different client behind the same proxy has its own budget.
    expect((await wrong('10.0.0.5', '198.51.100.2')).statusCode).toBe(401);
    // An untrusted peer's header is ignored: it is counted by its own address.
    expect((await wrong('203.0.113.7', '198.51.100.3')).statusCode).toBe(401);
    expect((await wrong('203.0.113.7', '198.51.100.4')).statusCode).toBe(429);
  });
});

describe.each(testDatabaseKinds())('credentials before the body on %s', (kind) => {
  const t = useTestApp(kind, {
    env: { AUTH_FAILURE_LIMIT: '1000', METRICS_TOKEN: 'metrics-token-0123456789' },
  });

  /** Every authenticated route that takes a body, or that could be sent one. */
  const routes: Array<[string, string]> = [
    ['POST', '/api/endpoints'],
    ['PATCH', '/api/endpoints/ep_x'],
    ['POST', '/api/endpoints/ep_x/rotate-secret'],
    ['POST', '/api/endpoints/ep_x/test'],
    ['POST', '/api/endpoints/ep_x/recover'],
    ['POST', '/api/deliveries/1/retry'],
    ['POST', '/api/deliveries/retry'],
    ['POST', '/api/endpoints/ep_x/pause'],
    ['POST', '/api/endpoints/ep_x/resume'],
    ['POST', '/api/outbound/pause'],
    ['POST', '/api/outbound/resume'],
    ['GET', '/api/outbound/stats'],
    ['POST', '/api/chats/chat_x/messages'],
    ['POST', '/api/chats/chat_x/messages/lm_x/retry'],
    ['GET', '/api/accounts'],
    ['POST', '/api/sync'],
    ['GET', '/api/sync'],
    ['GET', '/api/sync/sync_x'],
    ['POST', '/api/realtime/tokens'],
    ['POST', '/api/realtime/tokens/refresh'],
    ['POST', '/api/chats/chat_x/read'],
    ['GET', '/api/chats'],
    ['GET', '/api/event-types'],
    ['GET', '/metrics'],
    ['POST', UNIPILE_WEBHOOK_PATH],
  ];

  it('answers 401 to a malformed multipart send without credentials, not 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chats/chat_x/messages',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      payload: '--b\r\nbroken',
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it.each(routes)('%s %s answers 401 to malformed JSON without credentials, not 400', async (method, url) => {
    const response = await t.app.inject({
      method: method as 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: '{bad',
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it.each([
    ['a JSON body', '/api/endpoints', 'application/json', 800_000],
    ['a multipart send', '/api/chats/chat_x/messages', 'multipart/form-data; boundary=b', 20_000_000],
  ])(
    'answers 401 before an unauthenticated %s has even arrived, and closes the connection',
    async (_name, path, type, length) => {
      if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; connection: string | undefined }>(
        (resolve, reject) => {
          const request = httpRequest({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path,
            headers: { 'content-type': type, 'content-length': length },
          });
          request.on('response', (response) => {
            resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
            response.resume();
            request.destroy();
          });
          request.on('error', reject);
          // The first kilobyte of the promised body: the rest never comes.
          request.write('{"url":"'.padEnd(1024, 'a'));
        },
      );
      expect(answer).toEqual({ status: 401, connection: 'close' });
    },
  );

  it('limits management bodies to 64 KiB and keeps 1 MiB for the provider’s webhooks', async () => {
    const big = JSON.stringify({ url: 'https://hooks.example.com/x', description: 'd'.repeat(70 * 1024) });
    const management = await t.app.inject({
      method: 'POST',
      url: '/api/endpoints',
      headers: { ...apiAuth, 'content-type': 'application/json' },
      payload: big,
    });
    expect(management.statusCode).toBe(413);
    expect(management.json().error.code).toBe('HL_ERR_PAYLOAD_TOO_LARGE');
    const webhook = await t.app.inject({
      method: 'POST',
      url: UNIPILE_WEBHOOK_PATH,
      headers: { 'unipile-auth': TEST_SECRETS.inboundSecret, 'content-type': 'application/json' },
      payload: JSON.stringify({ padding: 'p'.repeat(900 * 1024) }),
    });
    expect(webhook.statusCode).not.toBe(413);
  });
});
