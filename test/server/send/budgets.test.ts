import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { pruneSendBookkeeping } from '../../../server/send/queries/send-budgets.js';
import { apiAuth } from '../../support/app.js';
import { metricValue } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { openChat, send, useSendHarness, waitForStatus } from './support.js';

async function sessionToken(app: FastifyInstance, accountIds: string[], scopes = ['read', 'send']) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/realtime/tokens',
    headers: apiAuth,
    payload: { accountIds, scopes },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().token as string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function storedSends(app: FastifyInstance, chatId: string): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    app.database.db,
    sql`select count(*)::int as count from sends where chat_id = ${chatId}`,
  );
  return Number(row?.count);
}

describe.each(['postgres'] as const)('send budgets on %s', (kind) => {
  const t = useSendHarness(kind, { SEND_RATE_PER_MINUTE: '3', SEND_ACCOUNT_RATE_PER_MINUTE: '5' });

  it('refuses a session past SEND_RATE_PER_MINUTE with 429 and Retry-After, storing nothing', async () => {
    const { account, chatId } = await openChat(t.app);
    const token = await sessionToken(t.app, [account.id]);
    for (let index = 0; index < 3; index++) {
      const accepted = await send(
        t.app,
        chatId,
        { accountId: account.id, text: `hi ${index}` },
        bearer(token),
      );
      expect(accepted.statusCode, accepted.body).toBe(202);
    }
    const refused = await send(t.app, chatId, { accountId: account.id, text: 'one too many' }, bearer(token));
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('HL_ERR_RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await storedSends(t.app, chatId)).toBe(3);

    // A refreshed successor is the same session: no new budget.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/realtime/tokens/refresh',
      headers: bearer(token),
    });
    const successor = refreshed.json().token as string;
    const again = await send(t.app, chatId, { accountId: account.id, text: 'successor' }, bearer(successor));
    expect(again.statusCode).toBe(429);

    // Another session of the same account has its own budget, within the account's.
    const other = await sessionToken(t.app, [account.id]);
    const fourth = await send(t.app, chatId, { accountId: account.id, text: 'other session' }, bearer(other));
    expect(fourth.statusCode).toBe(202);
  });

  it('refuses an account past SEND_ACCOUNT_RATE_PER_MINUTE whoever asks, the API token included', async () => {
    const { account, chatId } = await openChat(t.app);
    for (const token of [await sessionToken(t.app, [account.id]), await sessionToken(t.app, [account.id])]) {
      for (let index = 0; index < 2; index++) {
        const accepted = await send(t.app, chatId, { accountId: account.id, text: 'x' }, bearer(token));
        expect(accepted.statusCode).toBe(202);
      }
    }
    expect((await send(t.app, chatId, { accountId: account.id, text: 'fifth' })).statusCode).toBe(202);
    const refused = await send(t.app, chatId, { accountId: account.id, text: 'sixth' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('HL_ERR_RATE_LIMITED');
    expect(refused.headers['retry-after']).toBeDefined();
    expect(await storedSends(t.app, chatId)).toBe(5);
  });

  it('refuses a retry of a send that is not failed with 409, without drawing from the budget', async () => {
    const { account, chatId } = await openChat(t.app);
    const token = await sessionToken(t.app, [account.id]);
    t.fake.sends.next('refuse');
    const sent = await send(t.app, chatId, { accountId: account.id, text: 'retried once' }, bearer(token));
    const { localId } = sent.json();
    await waitForStatus(t.app, chatId, localId, 'failed');
    const retry = () =>
      t.app.inject({
        method: 'POST',
        url: `/api/chats/${chatId}/messages/${localId}/retry`,
        headers: bearer(token),
      });
    expect((await retry()).statusCode).toBe(202);
    // A second click, and more: the send is no longer failed, and the session's budget (3) stays.
    for (let index = 0; index < 3; index++) {
      const again = await retry();
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('HL_ERR_CONFLICT');
    }
    const third = await send(t.app, chatId, { accountId: account.id, text: 'third draw' }, bearer(token));
    expect(third.statusCode, third.body).toBe(202);
  });

  it('prunes send_requests older than SEND_IDEMPOTENCY_HOURS and keeps younger ones', async () => {
    const db = t.app.database.db;
    await db.execute(sql`insert into send_requests (account_id, key, local_id, response, created_at) values
      ('acc-prune', 'old', 'lm_old', '{}'::jsonb, now() - interval '25 hours'),
      ('acc-prune', 'new', 'lm_new', '{}'::jsonb, now() - interval '23 hours')`);
    expect(await pruneSendBookkeeping(db, 24)).toBe(1);
    const keys = await queryRows<{ key: string }>(
      db,
      sql`select key from send_requests where account_id = 'acc-prune'`,
    );
    expect(keys.map((row) => row.key)).toEqual(['new']);
  });
});

describe.each(['postgres'] as const)('the pending cap on %s', (kind) => {
  // No worker: sends stay queued, as with a provider that is down.
  const t = useSendHarness(kind, { SEND_WORKER_ENABLED: 'false', SEND_MAX_PENDING_PER_ACCOUNT: '2' });

  it('refuses a send past SEND_MAX_PENDING_PER_ACCOUNT queued sends with 429', async () => {
    const { account, chatId } = await openChat(t.app);
    for (const text of ['a', 'b']) {
      expect((await send(t.app, chatId, { accountId: account.id, text })).statusCode).toBe(202);
    }
    const refused = await send(t.app, chatId, { accountId: account.id, text: 'c' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatchObject({
      code: 'HL_ERR_RATE_LIMITED',
      details: { budget: 'pending' },
    });
    expect(refused.headers['retry-after']).toBeDefined();
    expect(await storedSends(t.app, chatId)).toBe(2);
  });
});

/** Opens a multipart send to `chatId` that declares `declaredBytes`; the caller writes the body. */
function openUpload(app: FastifyInstance, chatId: string, token: string, declaredBytes: number) {
  return httpRequest({
    host: '127.0.0.1',
    port: (app.server.address() as AddressInfo).port,
    method: 'POST',
    path: `/api/chats/${encodeURIComponent(chatId)}/messages`,
    headers: {
      ...bearer(token),
      'content-type': 'multipart/form-data; boundary=b',
      'content-length': declaredBytes,
    },
  });
}

/** Starts a multipart send of `declaredBytes`, writes its first chunk only, and resolves with the answer. */
function partialUpload(app: FastifyInstance, chatId: string, token: string, declaredBytes: number) {
  return new Promise<{ status: number; retryAfter: string | undefined; code: string; written: number }>(
    (resolve, reject) => {
      const request = openUpload(app, chatId, token, declaredBytes);
      const first = Buffer.alloc(64 * 1024, 'a');
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
            code: JSON.parse(Buffer.concat(chunks).toString()).error?.code,
            written: first.length,
          });
          request.destroy();
        });
      });
      request.on('error', reject);
      // The rest of the body never comes: an answer proves nothing waited for it.
      request.write(first);
    },
  );
}

describe.each(['postgres'] as const)('uploads authorised before they are read on %s', (kind) => {
  const t = useSendHarness(kind, { SEND_MAX_UPLOADS_IN_FLIGHT: '1' });

  it('answers a read-only token 403 while it is still uploading', async () => {
    const { account, chatId } = await openChat(t.app);
    const readOnly = await sessionToken(t.app, [account.id], ['read']);
    const answer = await partialUpload(t.app, chatId, readOnly, 24 * 1024 * 1024);
    expect(answer).toMatchObject({ status: 403, code: 'HL_ERR_FORBIDDEN' });
  });

  it("answers 404 before the body for a chat none of the token's accounts has", async () => {
    const { chatId } = await openChat(t.app);
    const { account: elsewhere } = await openChat(t.app);
    const token = await sessionToken(t.app, [elsewhere.id]);
    const answer = await partialUpload(t.app, chatId, token, 24 * 1024 * 1024);
    expect(answer).toMatchObject({ status: 404, code: 'HL_ERR_NOT_FOUND' });
  });

  it('caps uploads in flight (SEND_MAX_UPLOADS_IN_FLIGHT): 503 with Retry-After past it', async () => {
    const { account, chatId } = await openChat(t.app);
    const token = await sessionToken(t.app, [account.id]);
    // One upload that stays in flight: headers and a first chunk, then nothing.
    const holder = openUpload(t.app, chatId, token, 1024 * 1024);
    holder.on('error', () => {});
    holder.write('--b\r\nContent-Disposition: form-data; name="accountId"\r\n\r\n');
    await waitFor(
      async () => (await metricValue(t.app, 'hookline_send_uploads_in_flight')) === 1,
      'upload in flight',
    );
    const answer = await partialUpload(t.app, chatId, token, 1024 * 1024);
    expect(answer).toMatchObject({ status: 503, code: 'HL_ERR_UNAVAILABLE' });
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    holder.destroy();
  });
});
