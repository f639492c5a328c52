import { type AddressInfo, connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../../server/providers/unipile/index.js';
import { apiAuth, buildTestApp, TEST_SECRETS } from '../../support/app.js';
import { openTestDatabase, type TestDatabase } from '../../support/databases.js';

/**
 * POSTs `bytes` of JSON on a raw connection, written whole, and reads the answer only 200 ms
 * later, as a busy client would: by then a server that destroyed the connection with the body
 * unread has reset it, and the answer is lost. Resolves with the status line's code, or the error.
 */
function upload(port: number, path: string, bytes: number, headers: Record<string, string> = {}) {
  const body = `{"url":"${'a'.repeat(bytes - 10)}"}`;
  const head = [
    `POST ${path} HTTP/1.1`,
    'Host: localhost',
    'Content-Type: application/json',
    `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  return new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve(answer.slice(9, 12) || (error.code ?? error.message)),
    );
    socket.on('close', () => resolve(answer.slice(9, 12) || 'closed without an answer'));
    socket.write(`${head}\r\n\r\n`);
    socket.end(body);
    setTimeout(() => socket.resume(), 200);
  });
}

describe('closing a connection after refusing its body', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    // A failure budget above the burst, so every refusal is a 401 (the 429s are the same case).
    app = await buildTestApp(db.database, { env: { AUTH_FAILURE_LIMIT: '1000' } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it.each([
    ['too large for a management route', '/api/endpoints', 3 * 1024 * 1024, apiAuth, '413'],
    [
      'too large for the webhook route',
      UNIPILE_WEBHOOK_PATH,
      3 * 1024 * 1024,
      { 'unipile-auth': TEST_SECRETS.inboundSecret },
      '413',
    ],
    ['unauthenticated', '/api/endpoints', 3 * 1024 * 1024, {}, '401'],
  ])('answers every body %s before closing', async (_name, path, bytes, headers, status) => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => upload(port, path, bytes, headers)));
    expect(answers).toEqual(answers.map(() => status));
  });

  it('keeps reading after the answer until the client is done, so a client still writing sees no reset', async () => {
    expect(await trickle(port, 20)).toEqual({ answer: '413', error: null });
  });

  it('stops reading past its budget: a client that goes on writing is cut off', async () => {
    const outcome = await trickle(port, 80);
    expect(outcome.answer).toBe('413');
    expect(outcome.error).toMatch(/^(ECONNRESET|EPIPE)$/);
  });
});

/**
 * Announces a 16 MiB body to a management route (answered 413 at once) and writes `chunks` chunks
 * of 64 KiB, one every 5 ms, then ends: most arrive after the answer. Resolves with the answer and
 * the connection's error, if any: a server that closed after its answer resets the connection on
 * the bytes that come after, and an HTTP client reports that error instead of the answer.
 */
function trickle(port: number, chunks: number): Promise<{ answer: string; error: string | null }> {
  const head =
    'POST /api/endpoints HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
    `Authorization: ${apiAuth.authorization}\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`;
  return new Promise((resolve) => {
    // Half-open allowed: the client goes on writing after the server's end, as an HTTP client does.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let error: string | null = null;
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      error = failure.code ?? failure.message;
    });
    socket.on('close', () => resolve({ answer: answer.slice(9, 12), error }));
    socket.write(head);
    let written = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      socket.write(Buffer.alloc(64 * 1024, 'a'));
      if (++written < chunks) return;
      clearInterval(timer);
      socket.end();
    }, 5);
  });
}
