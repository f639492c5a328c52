import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HooklineError } from '../../../server/errors.js';
import { requires } from '../../../server/http/credentials.js';
import { apiAuth, buildTestApp } from '../../support/app.js';
import { openTestDatabase, type TestDatabase } from '../../support/databases.js';

describe('the one JSON error format', () => {
  let db: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    app = await buildTestApp(db.database);
    const open = { config: requires('none') };
    app.post('/test/echo', open, async (request) => ({ received: request.body }));
    app.get('/test/throw-plain', open, async () => {
      throw new Error('secret internals /etc/passwd');
    });
    app.get('/test/throw-coded', open, async () => {
      throw new HooklineError('HL_ERR_CONFLICT', 'already there', { details: { id: 'x' } });
    });
    app.get('/test/throw-zod', open, async () => z.object({ a: z.string() }).parse({ a: 1 }));
    app.get('/test/throw-db-down', open, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    app.get('/test/protected', { config: requires('api') }, async () => ({ ok: true }));
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  const cases: [string, InjectOptions, number, string][] = [
    ['unknown route', { method: 'GET', url: '/nope?token=abc' }, 404, 'HL_ERR_ROUTE_NOT_FOUND'],
    [
      'wrong content type',
      { method: 'POST', url: '/test/echo', headers: { 'content-type': 'text/xml' }, payload: '<a/>' },
      415,
      'HL_ERR_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'malformed JSON',
      {
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"a":',
      },
      400,
      'HL_ERR_INVALID_JSON',
    ],
    [
      'empty JSON body',
      { method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '' },
      400,
      'HL_ERR_INVALID_JSON',
    ],
    [
      'body over 1 MiB',
      {
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
      },
      413,
      'HL_ERR_PAYLOAD_TOO_LARGE',
    ],
    ['a thrown plain Error', { method: 'GET', url: '/test/throw-plain' }, 500, 'HL_ERR_INTERNAL'],
    ['a HooklineError', { method: 'GET', url: '/test/throw-coded' }, 409, 'HL_ERR_CONFLICT'],
    ['a zod failure', { method: 'GET', url: '/test/throw-zod' }, 400, 'HL_ERR_INVALID_REQUEST'],
    ['an unreachable database', { method: 'GET', url: '/test/throw-db-down' }, 503, 'HL_ERR_UNAVAILABLE'],
    ['a URL that cannot be decoded', { method: 'GET', url: '/api/chats/%E0' }, 400, 'HL_ERR_INVALID_REQUEST'],
    ['a missing API token', { method: 'GET', url: '/test/protected' }, 401, 'HL_ERR_UNAUTHORIZED'],
    [
      'a wrong API token',
      { method: 'GET', url: '/test/protected', headers: { authorization: 'Bearer wrong' } },
      401,
      'HL_ERR_UNAUTHORIZED',
    ],
  ];

  it.each(cases)('%s answers %i %s', async (_name, request, status, code) => {
    const response = await app.inject(request);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/json');
    const body = response.json();
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
  });

  it('never leaks internals of an unexpected error', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/throw-plain' });
    expect(response.body).not.toContain('/etc/passwd');
  });

  it('returns details when the error has them', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/throw-coded' });
    expect(response.json().error.details).toEqual({ id: 'x' });
  });

  it('answers headers too large for Node (431) in the same format', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve) => {
      let answer = '';
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
      );
      socket.on('data', (chunk) => {
        answer += chunk;
      });
      socket.on('close', () => resolve(answer));
      // The server destroys the socket after answering: a reset then is expected, the close decides.
      socket.on('error', () => {});
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('lets a valid API token through', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/protected', headers: apiAuth });
    expect(response.statusCode).toBe(200);
  });
});
