import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import {
  accountStatus,
  fakeAccount,
  followUp,
  messageReceived,
} from '../../../tools/fake-unipile/payloads.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { createEndpoint } from '../../support/outbound.js';
import { postWebhook } from '../../support/webhooks.js';

describe.each(testDatabaseKinds())('POST /api/webhooks/unipile/messages on %s', (kind) => {
  const t = useTestApp(kind);

  describe('authentication and transport', () => {
    it.each([
      ['no Unipile-Auth header', null],
      ['a wrong secret', 'wrong-secret'],
      ['the secret with a suffix', 'test-inbound-secret-0123456789x'],
    ])('answers 401 HL_ERR_UNAUTHORIZED with %s and stores nothing', async (_name, secret) => {
      const account = fakeAccount();
      const response = await postWebhook(t.app, messageReceived({ account }), { secret });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
      expect(await read.inboundFor(t.db.database, account.id)).toEqual([]);
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['no content type', null],
      ['application/json with charset', 'application/json; charset=utf-8'],
      ['an empty content type', ''],
      ['a malformed content type', 'json'],
    ])('accepts a body sent as %s (API-created webhooks send no JSON type)', async (_name, contentType) => {
      const response = await postWebhook(t.app, messageReceived(), { contentType });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ok: true, duplicate: false });
    });

    it('answers 413 above 1 MiB', async () => {
      const body = { ...messageReceived(), message: 'x'.repeat(1024 * 1024) };
      const response = await postWebhook(t.app, body);
      expect(response.statusCode).toBe(413);
      expect(response.json().error.code).toBe('HL_ERR_PAYLOAD_TOO_LARGE');
    });
  });

  describe('rejected bodies are answered 400 and kept', () => {
    it('malformed JSON: HL_ERR_INVALID_JSON, raw body stored as rejected', async () => {
      const response = await postWebhook(t.app, '{"event":"message_received","account_id":"acc_badjson",');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_JSON');
      const rows = await read.count(t.db.database, 'inbound_events');
      expect(rows).toBeGreaterThan(0);
    });

    it('invalid payload: HL_ERR_INVALID_PAYLOAD with the issues, stored as rejected with its labels', async () => {
      const account = fakeAccount();
      const body = { ...messageReceived({ account }), chat_id: null };
      const response = await postWebhook(t.app, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'HL_ERR_INVALID_PAYLOAD',
        details: [expect.objectContaining({ path: ['chat_id'] })],
      });
      const [stored] = await read.inboundFor(t.db.database, account.id);
      expect(stored).toMatchObject({ status: 'rejected', event: 'message_received' });
      expect(JSON.parse(stored!.raw_body)).toEqual(body);
    });

    it('JSON nested too deep: HL_ERR_INVALID_PAYLOAD', async () => {
      const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
      const response = await postWebhook(t.app, deep);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_PAYLOAD');
    });

    it('NUL characters are stored (replaced), never a 500', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account, text: 'a\u0000b' });
      const response = await postWebhook(t.app, body);
      expect(response.statusCode).toBe(200);
      const stored = await read.message(t.db.database, account.id, body.message_id);
      expect(stored?.text).toBe('a\uFFFDb');
    });

    it('unpaired surrogates and NUL in values and keys are stored (replaced), not rejected', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account });
      // As a sender whose text was cut inside an emoji writes them; jsonb refuses both.
      // JSON.stringify writes lone surrogates and NUL as escapes.
      const raw = JSON.stringify({ ...body, message: 'cut \ud83d', x_extra: 'low \udc00', 'k\u0000': 1 });
      const response = await postWebhook(t.app, raw);
      expect(response.statusCode, response.body).toBe(200);
      const stored = await read.message(t.db.database, account.id, body.message_id);
      expect(stored?.text).toBe('cut \uFFFD');
      expect(stored?.extra).toMatchObject({ x_extra: 'low \uFFFD', 'k\uFFFD': 1 });
    });

    it('invalid JSON with a raw NUL is kept with the parser reason (which quotes the body)', async () => {
      const unique = `x_${Date.now()}`;
      const response = await postWebhook(t.app, `${unique}${String.fromCharCode(0)}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_JSON');
      const rows = await queryRows<{ error: { code: string; reason: string } }>(
        t.db.database.db,
        sql`select error from inbound_events where raw_body = ${`${unique}\uFFFD`}`,
      );
      // Not the database's error code, which is what a body that failed to store would carry.
      expect(rows[0]?.error.code).toBe('HL_ERR_INVALID_JSON');
    });

    it('a body rejected for its depth keeps its labels even when they hold NUL or surrogates', async () => {
      const account = `acc_\\ud800_${Date.now()}`;
      const raw = `{"event":"e\\u0000","account_id":"${account}","deep":${'['.repeat(40)}${']'.repeat(40)}}`;
      const response = await postWebhook(t.app, raw);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_PAYLOAD');
      const rows = await queryRows<{ event: string; error: { reason: string } }>(
        t.db.database.db,
        sql`select event, error from inbound_events where account_id = ${account.replace('\\ud800', '\uFFFD')}`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.event).toBe('e\uFFFD');
    });
  });

  describe('every event type, end to end', () => {
    it('message_received stores the message, bumps the chat and appends message:new', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account, text: 'hi there' });
      const response = await postWebhook(t.app, body);
      expect(response.json()).toEqual({ ok: true, duplicate: false });

      const message = await read.message(t.db.database, account.id, body.message_id);
      expect(message).toMatchObject({
        state: 'received',
        text: 'hi there',
        chat_id: body.chat_id,
        is_sender: false,
      });
      const chat = await read.chat(t.db.database, account.id, body.chat_id);
      expect(chat).toMatchObject({
        unread_count: 1,
        last_message_id: body.message_id,
        last_message_preview: 'hi there',
      });
      const events = await read.realtimeFor(t.db.database, account.id);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'message:new',
          data: expect.objectContaining({
            accountId: account.id,
            chatId: body.chat_id,
            messageId: body.message_id,
            text: 'hi there',
            isSender: false,
            sender: expect.objectContaining({ name: body.sender.attendee_name }),
          }),
        }),
      ]);
    });

    it('owes a received message to an enabled endpoint, with its realtime envelope’s data', async () => {
      const endpoint = await createEndpoint(t.app, { url: 'https://subscriber.example.com/hook' });
      try {
        const account = fakeAccount();
        const body = messageReceived({ account, text: 'for the subscriber' });
        expect((await postWebhook(t.app, body)).json()).toEqual({ ok: true, duplicate: false });

        const [event] = await read.realtimeFor(t.db.database, account.id);
        const owed = await queryRows<{ webhook_id: string; event_type: string; payload: unknown }>(
          t.db.database.db,
          sql`select webhook_id, event_type, payload from deliveries where endpoint_id = ${endpoint.id}`,
        );
        expect(owed).toEqual([
          {
            webhook_id: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
            event_type: 'message.received',
            payload: { type: 'message.received', timestamp: expect.any(String), data: event!.data },
          },
        ]);
      } finally {
        await t.app.inject({ method: 'DELETE', url: `/api/endpoints/${endpoint.id}`, headers: apiAuth });
      }
    });

    it('the account’s own message does not raise the unread count', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account, fromAccount: true });
      await postWebhook(t.app, body);
      expect(await read.chat(t.db.database, account.id, body.chat_id)).toMatchObject({ unread_count: 0 });
      expect(await read.message(t.db.database, account.id, body.message_id)).toMatchObject({
        is_sender: true,
      });
    });

    it('edit, reaction, read, delivered and delete update the message, each with its envelope', async () => {
      const account = fakeAccount();
      const original = messageReceived({ account, text: 'first' });
      await postWebhook(t.app, original);
      for (const type of [
        'message_edited',
        'message_reaction',
        'message_read',
        'message_delivered',
      ] as const) {
        expect((await postWebhook(t.app, followUp(type, original))).json()).toEqual({
          ok: true,
          duplicate: false,
        });
      }
      const updated = await read.message(t.db.database, account.id, original.message_id);
      expect(updated).toMatchObject({ text: 'first (edited)' });
      expect(updated?.edited_at).not.toBeNull();
      expect(updated?.read_at).not.toBeNull();
      expect(updated?.delivered_at).not.toBeNull();
      expect(updated?.reactions).toEqual([expect.objectContaining({ reaction: '👍' })]);

      await postWebhook(t.app, followUp('message_deleted', original));
      const deleted = await read.message(t.db.database, account.id, original.message_id);
      expect(deleted).toMatchObject({ text: null });
      expect(deleted?.deleted_at).not.toBeNull();

      const types = (await read.realtimeFor(t.db.database, account.id)).map((event) => event.type);
      // Reading the received message also cleared its chat's badge in every tab.
      expect(types).toEqual([
        'message:new',
        'message:updated',
        'message:updated',
        'message:updated',
        'chat:read',
        'message:updated',
        'message:deleted',
      ]);
    });

    it('a second edit with new text is applied; a retry of the same edit is a duplicate', async () => {
      const account = fakeAccount();
      const original = messageReceived({ account, text: 'v1' });
      await postWebhook(t.app, original);
      const edit = followUp('message_edited', original, { message: 'v2' });
      await postWebhook(t.app, edit);
      const retry = await postWebhook(t.app, edit);
      expect(retry.json()).toEqual({ ok: true, duplicate: true });
      await postWebhook(t.app, followUp('message_edited', original, { message: 'v3' }));
      expect(await read.message(t.db.database, account.id, original.message_id)).toMatchObject({
        text: 'v3',
      });
    });

    it('a reaction replaces the same sender’s earlier one; an empty reaction removes it', async () => {
      const account = fakeAccount();
      const original = messageReceived({ account });
      await postWebhook(t.app, original);
      await postWebhook(t.app, followUp('message_reaction', original, { reaction: '👍' }));
      await postWebhook(t.app, followUp('message_reaction', original, { reaction: '❤️' }));
      expect((await read.message(t.db.database, account.id, original.message_id))?.reactions).toEqual([
        expect.objectContaining({ reaction: '❤️' }),
      ]);
      await postWebhook(t.app, followUp('message_reaction', original, { reaction: '' }));
      expect((await read.message(t.db.database, account.id, original.message_id))?.reactions).toEqual([]);
    });

    it('account status updates the account; the same status again is a duplicate; a change is not', async () => {
      const account = fakeAccount();
      const statuses = ['OK', 'OK', 'CREDENTIALS', 'OK'] as const;
      const answers = [];
      for (const status of statuses)
        answers.push((await postWebhook(t.app, accountStatus(account.id, status))).json());
      expect(answers.map((answer) => answer.duplicate)).toEqual([false, true, false, false]);
      const events = await read.realtimeFor(t.db.database, account.id);
      expect(events.map((event) => event.data.status)).toEqual(['OK', 'CREDENTIALS', 'OK']);
    });
  });

  describe('dedupe', () => {
    it('a retried webhook answers 200 duplicate and changes nothing', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account });
      await postWebhook(t.app, body);
      const again = await postWebhook(t.app, body);
      expect(again.json()).toEqual({ ok: true, duplicate: true });
      expect(await read.chat(t.db.database, account.id, body.chat_id)).toMatchObject({ unread_count: 1 });
      expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(1);
      expect(await read.inboundFor(t.db.database, account.id)).toHaveLength(1);
    });

    it('50 concurrent POSTs of one payload: one message, fifty 200s, one envelope', async () => {
      const account = fakeAccount();
      const body = messageReceived({ account });
      const responses = await Promise.all(Array.from({ length: 50 }, () => postWebhook(t.app, body)));
      expect(responses.map((response) => response.statusCode)).toEqual(Array(50).fill(200));
      expect(responses.filter((response) => response.json().duplicate === false)).toHaveLength(1);
      expect(await read.inboundFor(t.db.database, account.id)).toHaveLength(1);
      expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(1);
      expect(await read.chat(t.db.database, account.id, body.chat_id)).toMatchObject({ unread_count: 1 });
    });
  });

  describe('out-of-order events are not lost', () => {
    it('edit, reaction, read and delete that arrive before their message are applied when it arrives', async () => {
      const account = fakeAccount();
      const original = messageReceived({ account, text: 'original' });
      await postWebhook(t.app, followUp('message_edited', original, { message: 'edited first' }));
      await postWebhook(t.app, followUp('message_reaction', original));
      await postWebhook(t.app, followUp('message_read', original));
      expect(await read.message(t.db.database, account.id, original.message_id)).toMatchObject({
        state: 'placeholder',
      });

      await postWebhook(t.app, original);
      const merged = await read.message(t.db.database, account.id, original.message_id);
      expect(merged).toMatchObject({ state: 'received', text: 'edited first' });
      expect(merged?.reactions).toHaveLength(1);
      expect(merged?.read_at).not.toBeNull();
      const last = (await read.realtimeFor(t.db.database, account.id)).at(-1);
      expect(last).toMatchObject({ type: 'message:new', data: { text: 'edited first' } });
    });

    it('a delete before its message keeps the message deleted', async () => {
      const account = fakeAccount();
      const original = messageReceived({ account, text: 'secret' });
      await postWebhook(t.app, followUp('message_deleted', original));
      await postWebhook(t.app, original);
      const merged = await read.message(t.db.database, account.id, original.message_id);
      expect(merged).toMatchObject({ state: 'received', text: null });
      expect(merged?.deleted_at).not.toBeNull();
    });

    it('an older message arriving late does not become the chat’s last message', async () => {
      const account = fakeAccount();
      const newer = messageReceived({
        account,
        chatId: 'chat_late',
        text: 'newer',
        timestamp: new Date('2026-01-02'),
      });
      const older = messageReceived({
        account,
        chatId: 'chat_late',
        text: 'older',
        timestamp: new Date('2026-01-01'),
      });
      await postWebhook(t.app, newer);
      await postWebhook(t.app, older);
      expect(await read.chat(t.db.database, account.id, 'chat_late')).toMatchObject({
        last_message_preview: 'newer',
        unread_count: 2,
      });
    });
  });

  describe('group commit', () => {
    it('a burst of distinct webhooks is stored completely, in fewer transactions than requests', async () => {
      const account = fakeAccount();
      const bodies = Array.from({ length: 200 }, (_, index) =>
        messageReceived({ account, chatId: `chat_burst_${index % 7}` }),
      );
      const before = await batchCount(t.app);
      const responses = await Promise.all(bodies.map((body) => postWebhook(t.app, body)));
      expect(responses.every((response) => response.statusCode === 200)).toBe(true);
      expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(200);
      const unread = await Promise.all(
        Array.from({ length: 7 }, async (_, index) =>
          Number((await read.chat(t.db.database, account.id, `chat_burst_${index}`))?.unread_count),
        ),
      );
      expect(unread.reduce((sum, count) => sum + count, 0)).toBe(200);
      expect((await batchCount(t.app)) - before).toBeLessThan(200);
    });
  });
});

async function batchCount(app: Parameters<typeof postWebhook>[0]): Promise<number> {
  const metrics = await app.metrics.getSingleMetric('hookline_ingest_batch_size')?.get();
  const count = metrics?.values.find(
    (value) => (value as { metricName?: string }).metricName === 'hookline_ingest_batch_size_count',
  );
  return count?.value ?? 0;
}
