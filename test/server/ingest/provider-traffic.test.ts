import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import {
  fakeAccount,
  followUp,
  messageReceived,
  ownEcho,
  type UnipileMessagingPayload,
} from '../../../tools/fake-unipile/payloads.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { postWebhook } from '../../support/webhooks.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
/** A stored time (raw queries return timestamptz as text) in the form `at` writes. */
const time = (value: unknown) => new Date(value as string).toISOString();

/** Posts each body in turn and returns the answers. */
async function postAll(app: Parameters<typeof postWebhook>[0], bodies: unknown[]) {
  const answers = [];
  for (const body of bodies) {
    const response = await postWebhook(app, body);
    expect(response.statusCode, response.body).toBe(200);
    answers.push(response.json());
  }
  return answers;
}

describe.each(testDatabaseKinds())('real provider traffic on %s', (kind) => {
  const t = useTestApp(kind);

  async function received(options: Parameters<typeof messageReceived>[0] = {}) {
    const body = messageReceived({ timestamp: new Date(at(0)), ...options });
    expect((await postWebhook(t.app, body)).json()).toEqual({ ok: true, duplicate: false });
    return body;
  }
  const message = (body: UnipileMessagingPayload) =>
    read.message(t.db.database, body.account_id, body.message_id);
  const chat = (body: UnipileMessagingPayload) => read.chat(t.db.database, body.account_id, body.chat_id);
  const types = async (body: UnipileMessagingPayload) =>
    (await read.realtimeFor(t.db.database, body.account_id)).map((event) => event.type);

  describe('the account’s own messages', () => {
    it('an echo with is_sender and only a phone number is the account’s: no unread', async () => {
      const echo = ownEcho({ account: fakeAccount('WHATSAPP') });
      await postAll(t.app, [echo]);
      expect(await message(echo)).toMatchObject({ is_sender: true });
      expect(await chat(echo)).toMatchObject({ unread_count: 0, last_message_id: echo.message_id });
    });
  });

  describe('a message_received without a timestamp', () => {
    it('is stored, at its receive time; its retry is a duplicate (identity without the time)', async () => {
      const { timestamp: _dropped, ...body } = messageReceived({ text: 'no time given' });
      const before = Date.now();
      expect(await postAll(t.app, [body, body])).toEqual([
        { ok: true, duplicate: false },
        { ok: true, duplicate: true },
      ]);
      const stored = await message(body as UnipileMessagingPayload);
      expect(stored).toMatchObject({ text: 'no time given' });
      expect(new Date(stored!.sent_at as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
    });
  });

  describe('genuine repeats are applied; retries are duplicates', () => {
    it('👍, removed, 👍 again: all three applied; a retry of the third is a duplicate', async () => {
      const original = await received();
      const third = followUp('message_reaction', original, { reaction: '👍', timestamp: at(3) });
      const answers = await postAll(t.app, [
        followUp('message_reaction', original, { reaction: '👍', timestamp: at(1) }),
        followUp('message_reaction', original, { reaction: '', timestamp: at(2) }),
        third,
        third,
      ]);
      expect(answers.map((answer) => answer.duplicate)).toEqual([false, false, false, true]);
      expect((await message(original))?.reactions).toEqual([expect.objectContaining({ reaction: '👍' })]);
      expect(await types(original)).toEqual(['message:new', ...Array(3).fill('message:updated')]);
    });

    it('an edit A → B → A is applied three times', async () => {
      const original = await received({ text: 'A' });
      const answers = await postAll(t.app, [
        followUp('message_edited', original, { message: 'B', timestamp: at(1) }),
        followUp('message_edited', original, { message: 'A', timestamp: at(2) }),
      ]);
      expect(answers.map((answer) => answer.duplicate)).toEqual([false, false]);
      expect(await message(original)).toMatchObject({ text: 'A' });
      expect(time((await message(original))?.edited_at)).toBe(at(2));
    });

    it('a second message_received for a stored message (another timestamp) is a duplicate', async () => {
      const original = await received();
      const again = { ...original, timestamp: at(9), message: 'changed?' };
      expect((await postAll(t.app, [again]))[0]).toEqual({ ok: true, duplicate: true });
      expect(await message(original)).toMatchObject({ text: original.message });
      expect(await chat(original)).toMatchObject({ unread_count: 1 });
      expect(await types(original)).toEqual(['message:new']);
    });

    it('two deliveries of one message under different keys at once: one message, one unread', async () => {
      const body = messageReceived({ timestamp: new Date(at(0)) });
      const copies = Array.from({ length: 10 }, (_, index) => ({ ...body, timestamp: at(index) }));
      const answers = await Promise.all(copies.map((copy) => postWebhook(t.app, copy)));
      expect(answers.filter((answer) => answer.json().duplicate === false)).toHaveLength(1);
      expect(await chat(body)).toMatchObject({ unread_count: 1 });
      expect(await types(body)).toEqual(['message:new']);
    });
  });

  describe('a retry straddling an upgrade of the dedupe key', () => {
    it('is recorded again but changes nothing and publishes nothing', async () => {
      const original = await received({ text: 'v1' });
      const deliveries = [
        followUp('message_edited', original, { message: 'v2', timestamp: at(1) }),
        followUp('message_reaction', original, { reaction: '👍', timestamp: at(2) }),
        followUp('message_read', original, { timestamp: at(3) }),
        followUp('message_deleted', original, { timestamp: at(4) }),
      ];
      await postAll(t.app, deliveries);
      const before = await message(original);
      // The keys as a previous release computed them: none matches a key computed now.
      await queryRows(
        t.db.database.db,
        sql`update inbound_events set dedupe_key = 'previous:' || dedupe_key where account_id = ${original.account_id}`,
      );
      const answers = await postAll(t.app, [original, ...deliveries]);
      expect(answers[0]).toEqual({ ok: true, duplicate: true });
      expect(await message(original)).toEqual(before);
      // The read of the received message cleared its chat's badge, once (docs/ingest.md).
      expect(await chat(original)).toMatchObject({ unread_count: 0 });
      expect(await types(original)).toEqual([
        'message:new',
        'message:updated',
        'message:updated',
        'message:updated',
        'chat:read',
        'message:deleted',
      ]);
      expect(await read.inboundFor(t.db.database, original.account_id)).toHaveLength(10);
    });

    it('an edit or a reaction at the same time but different is applied (later arrival wins)', async () => {
      const original = await received({ text: 'v1' });
      await postAll(t.app, [
        followUp('message_edited', original, { message: 'v2', timestamp: at(1) }),
        followUp('message_edited', original, { message: 'v3', timestamp: at(1) }),
        followUp('message_reaction', original, { reaction: '👍', timestamp: at(2) }),
        followUp('message_reaction', original, { reaction: '🎉', timestamp: at(2) }),
      ]);
      const stored = await message(original);
      expect(stored).toMatchObject({ text: 'v3' });
      expect(stored?.reactions).toEqual([expect.objectContaining({ reaction: '🎉' })]);
    });
  });

  describe('later wins, per message and per kind of state', () => {
    it('an older edit arriving after a newer one is recorded but not applied', async () => {
      const original = await received({ text: 'v1' });
      const answers = await postAll(t.app, [
        followUp('message_edited', original, { message: 'v3', timestamp: at(3) }),
        followUp('message_edited', original, { message: 'v2', timestamp: at(2) }),
      ]);
      expect(answers.map((answer) => answer.duplicate)).toEqual([false, false]);
      expect(await message(original)).toMatchObject({ text: 'v3' });
      expect(await types(original)).toEqual(['message:new', 'message:updated']);
      expect(await read.inboundFor(t.db.database, original.account_id)).toHaveLength(3);
    });

    it('read and delivered times only move forward', async () => {
      const original = await received();
      await postAll(t.app, [
        followUp('message_read', original, { timestamp: at(5) }),
        followUp('message_read', original, { timestamp: at(4) }),
        followUp('message_delivered', original, { timestamp: at(3) }),
        followUp('message_delivered', original, { timestamp: at(1) }),
        followUp('message_read', original, { timestamp: at(6) }),
      ]);
      const stored = await message(original);
      expect(time(stored?.read_at)).toBe(at(6));
      expect(time(stored?.delivered_at)).toBe(at(3));
    });

    it('each reactor’s reaction: an older one does not undo a newer removal', async () => {
      const original = await received();
      const other = { ...original.attendees[0]!, attendee_provider_id: 'someone-else' };
      await postAll(t.app, [
        followUp('message_reaction', original, { reaction: '', timestamp: at(3) }),
        followUp('message_reaction', original, { reaction: '😂', timestamp: at(2) }),
        followUp('message_reaction', original, { reaction: '❤️', timestamp: at(1), reaction_sender: other }),
      ]);
      expect((await message(original))?.reactions).toEqual([
        expect.objectContaining({ reaction: '❤️', senderKey: 'someone-else' }),
      ]);
    });

    it('a deletion is final: a later or older edit does not bring text back', async () => {
      const original = await received({ text: 'secret' });
      await postAll(t.app, [
        followUp('message_deleted', original, { timestamp: at(2) }),
        followUp('message_edited', original, { message: 'older', timestamp: at(1) }),
        followUp('message_edited', original, { message: 'newer', timestamp: at(3) }),
        followUp('message_deleted', original, { timestamp: at(4) }),
      ]);
      const stored = await message(original);
      expect(stored).toMatchObject({ text: null });
      expect(time(stored?.deleted_at)).toBe(at(2));
      expect(await types(original)).toEqual(['message:new', 'message:deleted']);
    });

    it('before its message arrives, an older edit does not replace a newer one', async () => {
      const original = messageReceived({ text: 'v1', timestamp: new Date(at(0)) });
      await postAll(t.app, [
        followUp('message_edited', original, { message: 'v3', timestamp: at(3) }),
        followUp('message_edited', original, { message: 'v2', timestamp: at(2) }),
        original,
      ]);
      expect(await message(original)).toMatchObject({ state: 'received', text: 'v3' });
      expect(await chat(original)).toMatchObject({ last_message_preview: 'v3' });
    });
  });

  describe('the chat preview follows its last message', () => {
    it('an edit of the last message changes the preview; a deletion clears it', async () => {
      const original = await received({ text: 'typo' });
      await postAll(t.app, [followUp('message_edited', original, { message: 'fixed', timestamp: at(1) })]);
      expect(await chat(original)).toMatchObject({ last_message_preview: 'fixed' });
      await postAll(t.app, [followUp('message_deleted', original, { timestamp: at(2) })]);
      expect(await chat(original)).toMatchObject({
        last_message_preview: null,
        last_message_id: original.message_id,
      });
    });

    it('an edit of an earlier message leaves the preview alone', async () => {
      const account = fakeAccount();
      const first = await received({ account, chatId: 'chat_preview', text: 'first' });
      await received({ account, chatId: 'chat_preview', text: 'second', timestamp: new Date(at(1)) });
      await postAll(t.app, [
        followUp('message_edited', first, { message: 'first, edited', timestamp: at(2) }),
      ]);
      expect(await chat(first)).toMatchObject({ last_message_preview: 'second' });
    });

    it('a message deleted before it arrived does not show in the preview', async () => {
      const original = messageReceived({ text: 'gone', timestamp: new Date(at(0)) });
      await postAll(t.app, [followUp('message_deleted', original, { timestamp: at(1) }), original]);
      expect(await chat(original)).toMatchObject({ last_message_preview: null });
    });
  });

  describe('sources Hookline does not handle', () => {
    it.each([
      [
        'an email',
        { event: 'mail_received', account_id: 'acc_mail', email_id: 'e1', subject: 'Hello' },
        'mail_received',
      ],
      [
        'a new relation',
        { event: 'new_relation', account_id: 'acc_rel', user_full_name: 'Kim' },
        'new_relation',
      ],
      [
        'a hosted-auth callback',
        { status: 'CREATION_SUCCESS', account_id: 'acc_auth', name: 'user-42' },
        'none',
      ],
    ])('%s: 200 ignored, kept raw as ignored, counted', async (_name, body, source) => {
      const before = await ignoredCount(t.app, source);
      const response = await postWebhook(t.app, body);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ok: true, ignored: true });
      const [stored] = await read.inboundFor(t.db.database, body.account_id);
      expect(stored).toMatchObject({ status: 'ignored', error: null });
      expect(JSON.parse(stored!.raw_body)).toEqual(body);
      expect(await ignoredCount(t.app, source)).toBe(before + 1);
    });

    it.each([
      ['an array', '[{"event":"message_received"}]'],
      ['a string', '"message_received"'],
      ['null', 'null'],
    ])('a body that is not a JSON object (%s) is still 400', async (_name, raw) => {
      const response = await postWebhook(t.app, raw);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_PAYLOAD');
    });

    it('a messaging event lacking what is required is 400 with the issues', async () => {
      const body = { ...messageReceived(), message_id: undefined };
      const response = await postWebhook(t.app, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.details).toEqual([expect.objectContaining({ path: ['message_id'] })]);
    });
  });

  describe('optional fields in any shape', () => {
    it('any JSON value in any optional field of a valid message still gives 200', async () => {
      const valid = messageReceived();
      const optional = Object.keys(valid).filter(
        (field) => !['event', 'account_id', 'chat_id', 'message_id'].includes(field),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...optional),
          fc.jsonValue({ maxDepth: 4 }),
          async (field, value) => {
            const body = { ...messageReceived(), [field]: value };
            const response = await postWebhook(t.app, body);
            expect(response.statusCode, `${field}: ${JSON.stringify(value)} → ${response.body}`).toBe(200);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('attachments with mime_type, file_name and a bare size are stored normalised', async () => {
      const body = await received({
        attachments: [
          {
            id: 'att_9',
            type: 'file',
            mime_type: 'application/pdf',
            file_name: 'cv.pdf',
            size: 48213,
            extra_key: 1,
          },
        ],
      });
      expect((await message(body))?.attachments).toEqual([
        expect.objectContaining({
          id: 'att_9',
          mimetype: 'application/pdf',
          filename: 'cv.pdf',
          fileSize: 48213,
        }),
      ]);
    });
  });
});

async function ignoredCount(app: Parameters<typeof postWebhook>[0], source: string): Promise<number> {
  const metric = await app.metrics.getSingleMetric('hookline_ingest_ignored_total')?.get();
  return metric?.values.find((value) => value.labels.source === source)?.value ?? 0;
}
