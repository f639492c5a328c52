import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../../server/providers/unipile/index.js';
import { buildTestApp, TEST_SECRETS } from '../../support/app.js';
import { openTestDatabase, type TestDatabase } from '../../support/databases.js';
import { captureLogs } from '../../support/outbound.js';
import { openStalledRequest } from '../../support/raw-connections.js';
import { waitFor } from '../../support/wait.js';

/** A webhook request with valid credentials that announces `length` body bytes. */
const webhookHead = (length: number) =>
  `POST ${UNIPILE_WEBHOOK_PATH} HTTP/1.1\r\nHost: localhost\r\nUnipile-Auth: ${TEST_SECRETS.inboundSecret}\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('HTTP request timeouts', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let port: number;
  const logs = captureLogs('debug');

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    app = await buildTestApp(db.database, {
      env: { HTTP_REQUEST_TIMEOUT_MS: '400', HTTP_HEADERS_TIMEOUT_MS: '200' },
      logger: logs.logger,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await db?.dispose();
  });

  it('answers 408 and closes a connection whose body stops half way', async () => {
    const stalled = await openStalledRequest(port, webhookHead(1000), 500);
    await waitFor(() => stalled.socket.destroyed, 'the server closes the stalled request', {
      timeoutMs: 10_000,
    });
    expect(stalled.answer()).toMatch(/^HTTP\/1\.1 408 /);
    expect(stalled.answer()).toContain('"code":"HL_ERR_INVALID_REQUEST"');
  });

  it('answers 408 and closes a connection whose headers never end', async () => {
    const stalled = await openStalledRequest(port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\n`, 0);
    await waitFor(() => stalled.socket.destroyed, 'the server closes the stalled headers', {
      timeoutMs: 10_000,
    });
    expect(stalled.answer()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('logs a client that aborts mid-body as a client abort at debug, not as a database outage', async () => {
    const stalled = await openStalledRequest(port, webhookHead(1000), 500);
    const before = logs.lines.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    stalled.socket.destroy();
    const line = await waitFor(
      () => logs.lines.slice(before).find((entry) => entry.includes('request aborted')),
      'the abort is logged',
    );
    expect(JSON.parse(line)).toMatchObject({ level: 20 });
    const later = logs.lines
      .slice(before)
      .map((entry) => JSON.parse(entry) as { level: number; msg: string });
    expect(later.filter((entry) => entry.level >= 40)).toEqual([]);
  });
});
