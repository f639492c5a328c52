import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../support/app.js';
import { useTestDatabase } from '../../support/databases.js';

describe('graceful shutdown', () => {
  const db = useTestDatabase('postgres');

  it('closes a keep-alive connection whose request was still running when close began', async () => {
    const app = await buildTestApp(db.current.database);
    let release: () => void = () => {};
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    app.get('/test/slow', async () => {
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
});
