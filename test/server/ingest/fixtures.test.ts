import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGE_EVENT_TYPES } from '../../../server/providers/events.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { postWebhook } from '../../support/webhooks.js';

/** The corpus of real payload shapes (sources in its README.md), in file-name order. */
const FIXTURES_DIR = join(import.meta.dirname, '../../fixtures/unipile');
const fixtures = readdirSync(FIXTURES_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, raw: readFileSync(join(FIXTURES_DIR, name), 'utf8') }));

const MESSAGING = new Set<string>(MESSAGE_EVENT_TYPES);

/** What the gateway answers each fixture: a status, a messaging event, or an ignored source. */
function expectedAnswer(body: Record<string, unknown>) {
  if ('AccountStatus' in body) return { ok: true, duplicate: false };
  return MESSAGING.has(body.event as string) ? { ok: true, duplicate: false } : { ok: true, ignored: true };
}

describe.each(testDatabaseKinds())('the Unipile payload corpus on %s', (kind) => {
  const t = useTestApp(kind);
  const get = async (url: string) => {
    const response = await t.app.inject({ method: 'GET', url, headers: apiAuth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const messagesOf = async (accountId: string, chatId: string) =>
    Object.fromEntries(
      (await get(`/api/chats/${encodeURIComponent(chatId)}/messages?accountId=${accountId}`)).items.map(
        (item: { messageId: string }) => [item.messageId, item],
      ),
    );

  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
  });

  it('every fixture is answered as its kind; a second delivery of each is a duplicate or ignored', async () => {
    for (const fixture of fixtures) {
      const body = JSON.parse(fixture.raw) as Record<string, unknown>;
      const response = await postWebhook(t.app, fixture.raw);
      expect(response.statusCode, `${fixture.name}: ${response.body}`).toBe(200);
      expect(response.json(), fixture.name).toEqual(expectedAnswer(body));
    }
    for (const fixture of fixtures) {
      const body = JSON.parse(fixture.raw) as Record<string, unknown>;
      const again = (await postWebhook(t.app, fixture.raw)).json();
      expect(again, fixture.name).toEqual(
        'ignored' in expectedAnswer(body) ? { ok: true, ignored: true } : { ok: true, duplicate: true },
      );
    }
  });

  it('the LinkedIn message, as documented, reads back through the API', async () => {
    const [chat] = (await get('/api/chats?accountId=fxLinkedinAcc01')).items;
    expect(chat).toMatchObject({ chatId: 'fxLiChat01', lastMessagePreview: 'Hello World !', unreadCount: 1 });
    const messages = await messagesOf('fxLinkedinAcc01', 'fxLiChat01');
    expect(messages.fxLiMsg01).toMatchObject({
      text: 'Hello World !',
      isSender: false,
      sender: { name: 'Mira Castellane', providerId: 'ACoAAFixtureMiraCastellane0001' },
      attachments: [
        { id: 'fxAttachment01', mimetype: 'image/jpeg', width: 150, height: 150, sticker: false },
      ],
      sentAt: '2026-02-03T09:15:07.965Z',
    });
  });

  it('the WhatsApp conversation reads back with its own messages, follow-ups and preview', async () => {
    const [chat] = (await get('/api/chats?accountId=fxWhatsappAcc02')).items;
    // One incoming message; the echo (03) and the phone-only own message (14) are the account's.
    expect(chat).toMatchObject({
      chatId: 'fxWaChat02',
      unreadCount: 1,
      lastMessageId: 'fxWaMsg03',
      lastMessagePreview: "Thanks, I'll have a look tomorrow",
    });
    const messages = await messagesOf('fxWhatsappAcc02', 'fxWaChat02');
    expect(messages.fxWaMsg02).toMatchObject({ text: null, attachments: [], isSender: false });
    expect(messages.fxWaMsg02.deletedAt).not.toBeNull();
    expect(messages.fxWaMsg03).toMatchObject({
      isSender: true,
      text: "Thanks, I'll have a look tomorrow",
      reactions: [],
      editedAt: '2026-02-03T10:05:00.000Z',
      readAt: '2026-02-03T10:04:00.000Z',
      deliveredAt: '2026-02-03T10:01:02.000Z',
    });
    expect(messages.fxWaMsg14).toMatchObject({
      isSender: true,
      text: null,
      attachments: [{ id: 'fxVoice14', mimetype: 'audio/ogg', fileSize: 5120 }],
    });
  });

  it('the sources Hookline does not handle are kept, as ignored', async () => {
    for (const accountId of ['fxMailAcc11', 'fxHostedAcc13']) {
      const stored = await read.inboundFor(t.db.database, accountId);
      expect(stored.map((row) => row.status)).toEqual(['ignored', 'ignored']);
    }
  });
});
