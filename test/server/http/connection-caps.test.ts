import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../support/app.js';
import { type TestDatabaseKind, testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { metricValue } from '../../support/realtime.js';

/** Opens a TCP connection and says whether the gateway answers a request on it (or drops it). */
function probe(port: number): Promise<{ socket: Socket; answered: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const settle = (answered: boolean) => {
      if (settled) return;
      settled = true;
      resolve({ socket, answered });
    };
    socket.once('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => settle(true));
    socket.once('close', () => settle(false));
    socket.once('error', () => settle(false));
  });
}

function useListeningApp(kind: TestDatabaseKind, env: Record<string, string>) {
  const db = useTestDatabase(kind);
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    app = await buildTestApp(db.current.database, { env });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    get app() {
      return app as FastifyInstance;
    },
    get port() {
      return ((app as FastifyInstance).server.address() as AddressInfo).port;
    },
  };
}

describe.each(testDatabaseKinds())('connection caps on %s', (kind) => {
  describe('HTTP_MAX_CONNECTIONS_PER_ADDRESS', () => {
    const t = useListeningApp(kind, { HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3' });

    it('drops a connection past the per-address cap, and takes one again once another closes', async () => {
      const held = [await probe(t.port), await probe(t.port), await probe(t.port)];
      expect(held.map((connection) => connection.answered)).toEqual([true, true, true]);
      const over = await probe(t.port);
      expect(over.answered).toBe(false);
      expect(await metricValue(t.app, 'hookline_http_connections_refused_total')).toBeGreaterThanOrEqual(1);
      const closed = new Promise((resolve) => held[0]?.socket.once('close', resolve));
      held[0]?.socket.destroy();
      await closed;
      // The server learns of the close asynchronously: probe until a connection is accepted.
      let again = await probe(t.port);
      for (let tries = 0; !again.answered && tries < 50; tries++) again = await probe(t.port);
      expect(again.answered).toBe(true);
      for (const connection of [...held, again]) connection.socket.destroy();
    });
  });

  describe('HTTP_MAX_CONNECTIONS', () => {
    const t = useListeningApp(kind, { HTTP_MAX_CONNECTIONS: '2' });

    it('drops a connection past the total cap', async () => {
      const held = [await probe(t.port), await probe(t.port)];
      expect(held.map((connection) => connection.answered)).toEqual([true, true]);
      expect((await probe(t.port)).answered).toBe(false);
      for (const connection of held) connection.socket.destroy();
    });
  });
});
