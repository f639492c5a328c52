import { describe, expect, it } from 'vitest';
import { mintRealtimeToken } from '../../../server/realtime/tokens.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { apiAuth, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { mintToken } from '../../support/realtime.js';
import { postWebhook } from '../../support/webhooks.js';

describe.each(testDatabaseKinds())('inbox read API on %s', (kind) => {
  const t = useTestApp(kind);
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: apiAuth });

  it('requires the API token', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/chats' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it('reads a chat whose id is as long as ingest accepts (512), and refuses a longer one with 414', async () => {
    const account = fakeAccount();
    const chatId = `chat_${'x'.repeat(507)}`;
    const message = { ...messageReceived({ account, chatId }), provider_chat_id: 'prov_long' };
    expect((await postWebhook(t.app, message)).statusCode).toBe(200);
    const response = await get(`/api/chats/${chatId}/messages`);
    expect(response.statusCode).toBe(200);
    expect(response.json().items).toHaveLength(1);
    const longer = await get(`/api/chats/${chatId}x/messages`);
    expect(longer.statusCode).toBe(414);
    expect(longer.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('lists chats by last message with unread counts, paginated without overlap', async () => {
    const account = fakeAccount();
    for (let index = 0; index < 5; index++) {
      await postWebhook(
        t.app,
        messageReceived({
          account,
          chatId: `chat_order_${index}`,
          timestamp: new Date(Date.UTC(2026, 0, 1, 0, index)),
        }),
      );
    }
    await postWebhook(
      t.app,
      messageReceived({ account, chatId: 'chat_order_1', timestamp: new Date(Date.UTC(2026, 0, 2)) }),
    );

    const first = (await get(`/api/chats?accountId=${account.id}&limit=2`)).json();
    expect(first.items.map((chat: { chatId: string }) => chat.chatId)).toEqual([
      'chat_order_1',
      'chat_order_4',
    ]);
    expect(first.items[0]).toMatchObject({ unreadCount: 2, accountId: account.id });
    const second = (
      await get(`/api/chats?accountId=${account.id}&limit=2&cursor=${first.nextCursor}`)
    ).json();
    const third = (
      await get(`/api/chats?accountId=${account.id}&limit=2&cursor=${second.nextCursor}`)
    ).json();
    expect([...second.items, ...third.items].map((chat: { chatId: string }) => chat.chatId)).toEqual([
      'chat_order_3',
      'chat_order_2',
      'chat_order_0',
    ]);
    expect(third.nextCursor).toBeNull();
  });

  it('lists a chat’s messages newest first with cursor pagination', async () => {
    const account = fakeAccount();
    for (let index = 0; index < 3; index++) {
      await postWebhook(
        t.app,
        messageReceived({
          account,
          chatId: 'chat_msgs',
          text: `m${index}`,
          timestamp: new Date(Date.UTC(2026, 0, 1, index)),
        }),
      );
    }
    const page = (await get('/api/chats/chat_msgs/messages?limit=2')).json();
    expect(page.items.map((message: { text: string }) => message.text)).toEqual(['m2', 'm1']);
    const next = (await get(`/api/chats/chat_msgs/messages?limit=2&cursor=${page.nextCursor}`)).json();
    expect(next.items.map((message: { text: string }) => message.text)).toEqual(['m0']);
    expect(next.nextCursor).toBeNull();
  });

  it('POST /read sets unread to 0 and emits chat:read', async () => {
    const account = fakeAccount();
    await postWebhook(t.app, messageReceived({ account, chatId: 'chat_read' }));
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chats/chat_read/read',
      headers: apiAuth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().items[0]).toMatchObject({ chatId: 'chat_read', unreadCount: 0 });
    expect(await read.chat(t.db.database, account.id, 'chat_read')).toMatchObject({ unread_count: 0 });
    const last = (await read.realtimeFor(t.db.database, account.id)).at(-1);
    expect(last).toMatchObject({ type: 'chat:read', data: { chatId: 'chat_read', unreadCount: 0 } });

    // Read again: nothing changed, so nothing is published.
    const again = await t.app.inject({ method: 'POST', url: '/api/chats/chat_read/read', headers: apiAuth });
    expect(again.statusCode).toBe(200);
    const reads = (await read.realtimeFor(t.db.database, account.id)).filter(
      (row) => row.type === 'chat:read',
    );
    expect(reads).toHaveLength(1);
  });

  it.each([
    ['an unknown chat', 'GET', '/api/chats/chat_nope/messages', 404, 'HL_ERR_NOT_FOUND'],
    ['reading an unknown chat', 'POST', '/api/chats/chat_nope/read', 404, 'HL_ERR_NOT_FOUND'],
    ['a forged cursor', 'GET', '/api/chats?cursor=bm90LWpzb24', 400, 'HL_ERR_INVALID_REQUEST'],
    ['a limit over 100', 'GET', '/api/chats?limit=101', 400, 'HL_ERR_INVALID_REQUEST'],
    ['a limit of zero', 'GET', '/api/chats?limit=0', 400, 'HL_ERR_INVALID_REQUEST'],
  ] as const)('answers %s with %s %s', async (_name, method, url, status, code) => {
    const response = await t.app.inject({ method, url, headers: apiAuth });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
  });

  it('asks for accountId when a chat id exists in two accounts', async () => {
    await postWebhook(t.app, messageReceived({ account: fakeAccount(), chatId: 'chat_shared' }));
    const other = fakeAccount();
    await postWebhook(t.app, messageReceived({ account: other, chatId: 'chat_shared', text: 'theirs' }));
    const ambiguous = await get('/api/chats/chat_shared/messages');
    expect(ambiguous.statusCode).toBe(400);
    const scoped = (await get(`/api/chats/chat_shared/messages?accountId=${other.id}`)).json();
    expect(scoped.items.map((message: { text: string }) => message.text)).toEqual(['theirs']);
  });
});

describe.each(testDatabaseKinds())('inbox read API with a browser connection token on %s', (kind) => {
  const t = useTestApp(kind);

  it('reads only the accounts in the token, and never another account’s chat by id', async () => {
    const mine = fakeAccount();
    const theirs = fakeAccount();
    await postWebhook(t.app, messageReceived({ account: mine, chatId: 'chat_mine' }));
    await postWebhook(t.app, messageReceived({ account: theirs, chatId: 'chat_theirs', text: 'private' }));
    const token = await mintToken(t.app, [mine.id]);
    const as = (method: 'GET' | 'POST', url: string) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });

    const list = (await as('GET', '/api/chats')).json();
    expect(list.items.map((chat: { chatId: string }) => chat.chatId)).toEqual(['chat_mine']);
    expect((await as('GET', `/api/chats?accountId=${theirs.id}`)).json().items).toEqual([]);
    expect((await as('GET', '/api/chats/chat_mine/messages')).statusCode).toBe(200);

    const peek = await as('GET', '/api/chats/chat_theirs/messages');
    expect(peek.statusCode).toBe(404);
    expect(peek.body).not.toContain('private');
    expect((await as('POST', '/api/chats/chat_theirs/read')).statusCode).toBe(404);
    expect(await read.chat(t.db.database, theirs.id, 'chat_theirs')).toMatchObject({ unread_count: 1 });
  });

  it('refuses forged and expired tokens with HL_ERR_UNAUTHORIZED', async () => {
    const forged = await t.app.inject({
      method: 'GET',
      url: '/api/chats',
      headers: { authorization: 'Bearer a.b.c' },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, ['acc_expired'], -60);
    const expired = await t.app.inject({
      method: 'GET',
      url: '/api/chats',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toMatchObject({
      code: 'HL_ERR_UNAUTHORIZED',
      details: { reason: 'expired' },
    });
  });
});
