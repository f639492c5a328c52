import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../server/chats/cursor.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { createEndpoint } from '../../support/outbound.js';
import { postWebhook } from '../../support/webhooks.js';

const NUL = String.fromCharCode(0);
const YEAR_ZERO = '0000-06-01T00:00:00Z';

/**
 * Values Postgres cannot store (U+0000, years outside 1–9999) used to reach a query and fail there
 * as a 500. Each must now be a 400 with a stable code before any query runs, on both engines.
 */
describe.each(testDatabaseKinds())('unstorable input on %s', (kind) => {
  const t = useTestApp(kind);
  const send = (options: InjectOptions) =>
    t.app.inject({ ...options, headers: { ...apiAuth, ...options.headers } });

  it('refuses U+0000 in paths, queries and JSON bodies of every API with 400', async () => {
    const { id } = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/hook', enabled: false });
    const cases: InjectOptions[] = [
      { method: 'GET', url: '/api/chats/a%00b/messages' },
      { method: 'POST', url: '/api/chats/a%00b/read', payload: {} },
      { method: 'GET', url: '/api/chats?accountId=%00' },
      { method: 'POST', url: '/api/chats/c/read', payload: { accountId: `a${NUL}` } },
      { method: 'POST', url: '/api/realtime/tokens', payload: { accountIds: [`acc${NUL}`] } },
      { method: 'GET', url: '/api/endpoints/ep%00' },
      { method: 'GET', url: '/api/endpoints?cursor=%00' },
      { method: 'PATCH', url: `/api/endpoints/${id}`, payload: { description: `a${NUL}b` } },
      { method: 'PATCH', url: `/api/endpoints/${id}`, payload: { accountIds: [NUL] } },
      { method: 'POST', url: '/api/endpoints', payload: { url: 'http://127.0.0.1:9/', description: NUL } },
      { method: 'GET', url: '/ws/messages?token=%00' },
    ];
    for (const request of cases) {
      const response = await send(request);
      expect(response.statusCode, `${request.method} ${String(request.url)}`).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
  });

  it('refuses a page cursor that carries U+0000 or a year Postgres cannot store', async () => {
    const forged = [
      encodeCursor({ lastMessageAt: '2026-01-01T00:00:00Z', accountId: `a${NUL}`, id: 'c' }),
      encodeCursor({ lastMessageAt: YEAR_ZERO, accountId: 'a', id: 'c' }),
    ];
    for (const cursor of forged) {
      const response = await send({ method: 'GET', url: `/api/chats?cursor=${cursor}` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
    const account = fakeAccount();
    const message = messageReceived({ account });
    expect((await postWebhook(t.app, message)).statusCode).toBe(200);
    const cursor = encodeCursor({ sentAt: YEAR_ZERO, id: 'm' });
    const response = await send({
      method: 'GET',
      url: `/api/chats/${message.chat_id}/messages?cursor=${cursor}`,
    });
    expect(response.statusCode).toBe(400);
  });

  it('refuses outbound stats and recovery times outside years 1–9999 with 400', async () => {
    const { id } = await createEndpoint(t.app, { url: 'http://127.0.0.1:9/hook', enabled: false });
    const cases: InjectOptions[] = [
      { method: 'GET', url: `/api/endpoints/${id}/stats?since=${YEAR_ZERO}` },
      { method: 'GET', url: `/api/endpoints/${id}/stats?since=0001-01-01T00:30:00%2B01:00` },
      { method: 'POST', url: `/api/endpoints/${id}/recover`, payload: { since: YEAR_ZERO } },
    ];
    for (const request of cases) {
      const response = await send(request);
      expect(response.statusCode, String(request.url)).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
  });

  it('stores a webhook whose timestamp Postgres cannot hold, at its receive time', async () => {
    const before = Date.now();
    for (const timestamp of [YEAR_ZERO, '+275760-09-13T00:00:00Z', '-000001-01-01T00:00:00Z']) {
      const account = fakeAccount();
      const message = { ...messageReceived({ account }), timestamp };
      const response = await postWebhook(t.app, message);
      expect(response.statusCode, timestamp).toBe(200);
      const stored = await read.message(t.db.database, account.id, message.message_id);
      expect(new Date(stored?.sent_at as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('still stores a webhook with U+0000 in it (replaced), without a 400', async () => {
    const account = fakeAccount();
    const message = messageReceived({ account, text: `a${NUL}b` });
    expect((await postWebhook(t.app, message)).statusCode).toBe(200);
    const stored = await read.message(t.db.database, account.id, message.message_id);
    expect(stored?.text).toBe('a\uFFFDb');
  });
});
