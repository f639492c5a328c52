import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { requires } from '../../../server/http/credentials.js';
import { buildTestApp, TEST_SECRETS } from '../../support/app.js';
import { useTestDatabase } from '../../support/databases.js';
import { openStalledRequest } from '../../support/raw-connections.js';

describe('graceful shutdown', () => {
  const db = useTestDatabase('postgres');

  it('closes a keep-alive connection whose request was still running when close began', async () => {
    const app = await buildTestApp(db.current.database);
    let release: () => void = () => {};
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    app.get('/test/slow', { config: requires('none') }, async () => {
      started();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { ok: true };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const client = new Client(url);
    try {
      const answer = client.request({ method: 'GET', path: '/test/slow' });
      await running;
      const closed = app.close().then(() => 'closed' as const);
      await sleep(50);
      release();
      const response = await answer;
      expect(response.statusCode).toBe(200);
      expect(response.headers.connection).toBe('close');
      await response.body.text();
      // Without the fix the idle connection held the server open for fastify's keep-alive
      // timeout (72 s), far past any shutdown timeout.
      expect(await Promise.race([closed, sleep(10_000).then(() => 'still open' as const)])).toBe('closed');
    } finally {
      await client.close();
    }
  });

  it('closes connections whose headers or body stall, half way through the shutdown budget', async () => {
    // Request timeouts far beyond the budget: only the shutdown itself can end these connections.
    const app = await buildTestApp(db.current.database, {
      env: {
        SHUTDOWN_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: '600000',
        HTTP_HEADERS_TIMEOUT_MS: '600000',
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const body = await openStalledRequest(
      port,
      `POST /api/webhooks/unipile/messages HTTP/1.1\r\nHost: localhost\r\n` +
        `Unipile-Auth: ${TEST_SECRETS.inboundSecret}\r\nContent-Length: 1000\r\n\r\n`,
      10,
    );
    const headers = await openStalledRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 0);
    const closed = app.close().then(() => 'closed' as const);
    // Without the drain the stalled connections held the server open until the process's forced exit.
    expect(await Promise.race([closed, sleep(10_000).then(() => 'still open' as const)])).toBe('closed');
    await Promise.all([body.closed, headers.closed]);
  });
});
