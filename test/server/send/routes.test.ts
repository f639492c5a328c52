import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { transaction } from '../../../server/db/transaction.js';
import { storeSends } from '../../../server/send/queries/send-batches.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint } from '../../support/outbound.js';
import { waitFor } from '../../support/wait.js';
import { startWebhookSink } from '../../support/webhook-sink.js';
import { postWebhook } from '../../support/webhooks.js';
import { openChat, publishedStatuses, send, useSendHarness, waitForStatus } from './support.js';

async function mint(app: Parameters<typeof send>[0], accountIds: string[], scopes?: string[]) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/realtime/tokens',
    headers: apiAuth,
    payload: { accountIds, ...(scopes ? { scopes } : {}) },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { token: string; scopes: string[] };
}

describe.each(testDatabaseKinds())('send routes on %s', (kind) => {
  const t = useSendHarness(kind, { OUTBOUND_POLL_INTERVAL_MS: '50', OUTBOUND_RETRY_SCHEDULE: '30ms' });

  it('replays the first answer for a repeated Idempotency-Key and sends nothing more', async () => {
    const { account, chatId } = await openChat(t.app);
    const headers = { ...apiAuth, 'idempotency-key': `key-${randomUUID()}` };
    const first = await send(t.app, chatId, { accountId: account.id, text: 'only once' }, headers);
    const second = await send(t.app, chatId, { accountId: account.id, text: 'only once' }, headers);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    await waitForStatus(t.app, chatId, first.json().localId, 'sent');
    const third = await send(t.app, chatId, { accountId: account.id, text: 'only once' }, headers);
    expect(third.json().localId).toBe(first.json().localId);
    expect(t.fake.sends.received.filter((request) => request.text === 'only once')).toHaveLength(1);
  });

  it('stores sends that arrive together once each: racing requests with one key store one message, the chat shows the last', async () => {
    const { account, chatId } = await openChat(t.app);
    const headers = { ...apiAuth, 'idempotency-key': `key-${randomUUID()}` };
    // Injected in one turn of the event loop, so they share the store's transactions.
    const keyed = await Promise.all(
      Array.from({ length: 4 }, () => send(t.app, chatId, { accountId: account.id, text: 'raced' }, headers)),
    );
    const plain = await Promise.all(
      ['one', 'two', 'three'].map((text) => send(t.app, chatId, { accountId: account.id, text })),
    );
    for (const response of [...keyed, ...plain]) expect(response.statusCode).toBe(202);
    const localIds = new Set(keyed.map((response) => response.json().localId));
    expect(localIds.size).toBe(1);
    expect(keyed.filter((response) => response.headers['idempotent-replayed'] === 'true')).toHaveLength(3);
    for (const response of keyed) expect(response.json()).toEqual(keyed[0]?.json());
    for (const response of plain) await waitForStatus(t.app, chatId, response.json().localId, 'sent');
    await waitForStatus(t.app, chatId, [...localIds][0] as string, 'sent');
    expect(t.fake.sends.received.filter((request) => request.text === 'raced')).toHaveLength(1);
    // The chat's last message is one of the batch's, under its provider id once sent.
    const [chat] = await queryRows<{ preview: string; lastId: string; messageId: string }>(
      t.app.database.db,
      sql`select c.last_message_preview as preview, c.last_message_id as "lastId", m.id as "messageId"
        from chats c join messages m on m.account_id = c.account_id and m.chat_id = c.id
          and m.text = c.last_message_preview and m.local_id is not null
        where c.account_id = ${account.id} and c.id = ${chatId}`,
    );
    expect(['one', 'two', 'three']).toContain(chat?.preview);
    expect(chat?.lastId).toBe(chat?.messageId);
    expect(chat?.lastId.startsWith('lm_')).toBe(false);
  });

  it('lets a connection token send only with the send scope, and only for its accounts', async () => {
    const { account, chatId } = await openChat(t.app);
    const other = await openChat(t.app);
    const reader = await mint(t.app, [account.id]);
    expect(reader.scopes).toEqual(['read']);
    const sender = await mint(t.app, [account.id], ['read', 'send']);
    const body = { accountId: account.id, text: 'scoped' };

    const refused = await send(t.app, chatId, body, { authorization: `Bearer ${reader.token}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('HL_ERR_FORBIDDEN');
    const elsewhere = await send(
      t.app,
      other.chatId,
      { accountId: other.account.id, text: 'not mine' },
      { authorization: `Bearer ${sender.token}` },
    );
    expect(elsewhere.statusCode).toBe(404);
    expect((await send(t.app, chatId, body, {})).json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    const accepted = await send(t.app, chatId, body, { authorization: `Bearer ${sender.token}` });
    expect(accepted.statusCode).toBe(202);
    await waitForStatus(t.app, chatId, accepted.json().localId, 'sent');
  });

  it('refuses bad input with stable codes', async () => {
    const { account, chatId } = await openChat(t.app);
    const cases = [
      { accountId: account.id },
      { accountId: account.id, text: '   ' },
      { accountId: account.id, text: 'x'.repeat(20_001) },
      { accountId: account.id, text: 'ok', extra: 1 },
      { text: 'no account' },
    ];
    for (const body of cases) {
      const response = await send(t.app, chatId, body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
    const unknownChat = await send(t.app, 'chat_nowhere', { accountId: account.id, text: 'hi' });
    expect(unknownChat.statusCode).toBe(404);
  });

  it('cleans a JSON reply cut mid-emoji (a lone surrogate) as multipart and webhooks are cleaned: stored, never a 500', async () => {
    const { account, chatId } = await openChat(t.app);
    const response = await send(t.app, chatId, { accountId: account.id, text: 'see you \ud83d' });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ status: 'pending', text: 'see you \uFFFD' });
    const { localId } = response.json();
    await waitForStatus(t.app, chatId, localId, 'sent');
    expect(t.fake.sends.received.map((request) => request.text)).toContain('see you \uFFFD');
  });

  it('lists accounts with their last status, scoped like the chats', async () => {
    const { account } = await openChat(t.app);
    const other = await openChat(t.app);
    await postWebhook(t.app, {
      AccountStatus: { account_id: account.id, account_type: 'WHATSAPP', message: 'CREDENTIALS' },
    });
    const { token } = await mint(t.app, [account.id]);
    const scoped = await t.app.inject({
      method: 'GET',
      url: '/api/accounts',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(scoped.json().items).toEqual([
      expect.objectContaining({ accountId: account.id, status: 'CREDENTIALS', accountType: 'WHATSAPP' }),
    ]);
    const all = await t.app.inject({ method: 'GET', url: '/api/accounts', headers: apiAuth });
    const ids = (all.json().items as { accountId: string }[]).map((item) => item.accountId);
    expect(ids).toEqual(expect.arrayContaining([account.id, other.account.id]));
  });

  it('tells never-sent from maybe-sent after a crash: a queued send is sent, an expired attempt is unknown first', async () => {
    const { account, chatId } = await openChat(t.app);
    const queued = `lm_${randomUUID().replaceAll('-', '')}`;
    const attempted = `lm_${randomUUID().replaceAll('-', '')}`;
    await transaction(t.app.database.db, async (tx) => {
      for (const [localId, text] of [
        [queued, 'queued then crashed'],
        [attempted, 'attempted then crashed'],
      ] as const) {
        await storeSends(tx, [{ localId, accountId: account.id, chatId, text, quoteId: null }]);
      }
      // A claim records the attempt in the same statement, so a send is either still queued
      // (never written to the provider) or sending (maybe sent).
      await tx.execute(
        sql`update sends set next_attempt_at = now() - interval '1 second' where local_id = ${queued}`,
      );
      await tx.execute(sql`update sends set status = 'sending', attempts = 1, attempt_started_at = now(),
        next_attempt_at = now() + interval '1 hour', lease_expires_at = now() - interval '1 second'
        where local_id = ${attempted}`);
    });
    await waitForStatus(t.app, chatId, queued, 'sent');
    await waitForStatus(t.app, chatId, attempted, 'sent');
    expect(await publishedStatuses(t.app, queued)).toEqual(['sent']);
    // The lookup found nothing at the provider, so only then was it sent again.
    expect(await publishedStatuses(t.app, attempted)).toEqual(['unknown', 'pending', 'sent']);
    expect(t.fake.sends.received.filter((request) => request.text.endsWith('then crashed'))).toHaveLength(2);
  });

  it('gives subscribers one message.sent per message', async () => {
    const sink = await startWebhookSink();
    try {
      const { id } = await createEndpoint(t.app, { url: sink.url, eventTypes: ['message.sent'] });
      const { account, chatId } = await openChat(t.app);
      const { localId } = (
        await send(t.app, chatId, { accountId: account.id, text: 'subscribers see it' })
      ).json();
      await waitForStatus(t.app, chatId, localId, 'sent');
      const first = await waitFor(() => sink.received[0], 'message.sent delivered');
      const body = JSON.parse(first.body);
      expect(body).toMatchObject({
        type: 'message.sent',
        data: { localId, status: 'sent', text: 'subscribers see it' },
      });
      expect(body.data.messageId).toBe(
        t.fake.sends.sent.find((message) => message.text === 'subscribers see it')?.id,
      );
      await t.app.inject({ method: 'DELETE', url: `/api/endpoints/${id}`, headers: apiAuth });
      expect(sink.received).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });
});

describe.each(testDatabaseKinds())('sending without a provider on %s', (kind) => {
  const t = useTestApp(kind);

  it('answers 503 when UNIPILE_DSN / UNIPILE_API_KEY are unset, and stores nothing', async () => {
    const account = fakeAccount();
    const payload = messageReceived({ account });
    await postWebhook(t.app, payload);
    const response = await send(t.app, payload.chat_id, { accountId: account.id, text: 'nowhere to go' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('HL_ERR_UNAVAILABLE');
  });
});
