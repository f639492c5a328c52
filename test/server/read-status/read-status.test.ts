import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { fakeAccount, followUp, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { apiAuth, buildTestApp } from '../../support/app.js';
import { useTestDatabase } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { waitFor } from '../../support/wait.js';
import { postWebhook } from '../../support/webhooks.js';

/** Read state both ways: Hookline tells the provider, and the provider's `message_read` clears badges. */
describe('read state with the provider', () => {
  const db = useTestDatabase('postgres');
  let fake: FakeUnipile;
  let app: FastifyInstance;
  const account = fakeAccount();

  beforeAll(async () => {
    fake = await startFakeUnipile();
    app = await buildTestApp(db.current.database, {
      env: {
        UNIPILE_DSN: fake.url,
        UNIPILE_API_KEY: fake.apiKey,
        SEND_POLL_INTERVAL_MS: '50',
        SEND_RETRY_MIN_MS: '20',
        SEND_TIMEOUT_MS: '2000',
        SEND_LEASE_MS: '5000',
      },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const markRead = (chatId: string) =>
    app.inject({
      method: 'POST',
      url: `/api/chats/${chatId}/read`,
      headers: apiAuth,
      payload: { accountId: account.id },
    });
  const pending = async () =>
    (await queryRows<{ n: number }>(app.database.db, sql`select count(*)::int as n from read_marks`))[0]!.n;
  const chatReadEnvelopes = async (chatId: string) =>
    (
      await queryRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from realtime_events where type = 'chat:read' and data->>'chatId' = ${chatId}`,
      )
    )[0]!.n;

  it('marks a chat with unread messages read at the provider, once for two quick reads', async () => {
    await postWebhook(app, messageReceived({ account, chatId: 'chat_unread', text: 'ping' }));
    fake.chatReads.failNext(1, 503);
    expect((await markRead('chat_unread')).statusCode).toBe(200);
    expect((await markRead('chat_unread')).statusCode).toBe(200);
    await waitFor(() => fake.chatReads.marked().includes('chat_unread'), 'the provider marked the chat read');
    await waitFor(async () => (await pending()) === 0, 'the queue drained');
    expect(
      fake.chatReads.calls.filter((call) => call.chatId === 'chat_unread').map((call) => call.status),
    ).toEqual([503, 200]);
    expect(fake.chatReads.calls[0]!.body).toEqual({ action: 'setReadStatus', value: true });
  });

  it('does not call the provider for a chat that had nothing unread', async () => {
    await postWebhook(app, messageReceived({ account, chatId: 'chat_quiet', text: 'hi', fromAccount: true }));
    await markRead('chat_quiet');
    await markRead('chat_unread');
    expect(await pending()).toBe(0);
    expect(fake.chatReads.calls.filter((call) => call.chatId === 'chat_quiet')).toEqual([]);
  });

  it('gives up a mark the provider refuses, keeping nothing queued', async () => {
    await postWebhook(app, messageReceived({ account, chatId: 'chat_refused', text: 'ping' }));
    fake.chatReads.failNext(1, 404);
    await markRead('chat_refused');
    await waitFor(
      () => fake.chatReads.calls.some((call) => call.chatId === 'chat_refused'),
      'the call was made',
    );
    await waitFor(async () => (await pending()) === 0, 'the refused mark was dropped');
    expect(fake.chatReads.calls.filter((call) => call.chatId === 'chat_refused')).toHaveLength(1);
  });

  it("clears a chat's unread count and tells every tab when the provider says a received message was read", async () => {
    const incoming = messageReceived({ account, chatId: 'chat_phone', text: 'read me on the phone' });
    await postWebhook(app, incoming);
    expect((await read.chat(db.current.database, account.id, 'chat_phone'))?.unread_count).toBe(1);
    expect((await postWebhook(app, followUp('message_read', incoming))).statusCode).toBe(200);
    expect((await read.chat(db.current.database, account.id, 'chat_phone'))?.unread_count).toBe(0);
    expect(await chatReadEnvelopes('chat_phone')).toBe(1);
    // No call back to the provider: it is the one that told us.
    expect(await pending()).toBe(0);
  });

  it('keeps the unread count when the read receipt is for an own message', async () => {
    const incoming = messageReceived({ account, chatId: 'chat_receipt', text: 'unread here' });
    await postWebhook(app, incoming);
    const own = messageReceived({ account, chatId: 'chat_receipt', text: 'my reply', fromAccount: true });
    await postWebhook(app, own);
    await postWebhook(app, followUp('message_read', own));
    expect((await read.chat(db.current.database, account.id, 'chat_receipt'))?.unread_count).toBe(1);
    expect(await chatReadEnvelopes('chat_receipt')).toBe(0);
  });
});
