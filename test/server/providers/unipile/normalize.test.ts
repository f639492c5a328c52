import { describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../../../server/providers/events.js';
import { normalizeUnipileWebhook } from '../../../../server/providers/unipile/normalize.js';
import { parseUnipileWebhook } from '../../../../server/providers/unipile/webhook-schema.js';
import { fakeAccount, messageReceived, ownEcho } from '../../../../tools/fake-unipile/payloads.js';

function normalized(body: unknown): MessageEvent {
  const result = parseUnipileWebhook(body);
  if (!result.ok || result.webhook.kind !== 'messaging') throw new Error('expected a messaging webhook');
  return normalizeUnipileWebhook(result.webhook) as MessageEvent;
}

const account = fakeAccount('WHATSAPP', 'acc_normalize');
const incoming = messageReceived({ account });
const phoneSender = {
  attendee_id: 'att_me',
  attendee_name: 'Me',
  attendee_provider_id: '33612345678@s.whatsapp.net',
};

describe('isSender, by the first rule that applies', () => {
  it.each([
    ['is_sender true, even from someone else', { ...incoming, is_sender: true }, true],
    ['is_sender 1', { ...incoming, is_sender: 1 }, true],
    [
      'is_sender 0, even with the account’s user id',
      { ...incoming, is_sender: 0, sender: { ...incoming.attendees[0] } },
      false,
    ],
    ['is_sender false', { ...incoming, is_sender: false }, false],
    ['is_sender unreadable: the next rules decide', { ...incoming, is_sender: 'perhaps' }, false],
    [
      'the sender’s provider id is account_info.user_id',
      { ...incoming, sender: { ...incoming.attendees[0] } },
      true,
    ],
    [
      'a WhatsApp sender whose number is account_info.phone_number, as digits',
      {
        ...incoming,
        sender: phoneSender,
        account_info: { type: 'WHATSAPP', phone_number: '+33 6 12 34 56 78' },
      },
      true,
    ],
    [
      'a WhatsApp sender with another number',
      {
        ...incoming,
        sender: phoneSender,
        account_info: { type: 'WHATSAPP', phone_number: '+33 6 00 00 00 00' },
      },
      false,
    ],
    [
      'a phone number on a LinkedIn account',
      {
        ...incoming,
        account_type: 'LINKEDIN',
        sender: { ...phoneSender, attendee_provider_id: '33612345678' },
        account_info: { type: 'LINKEDIN', phone_number: '33612345678' },
      },
      false,
    ],
    [
      'an empty phone number',
      {
        ...incoming,
        sender: { ...phoneSender, attendee_provider_id: '@s.whatsapp.net' },
        account_info: { phone_number: '' },
      },
      false,
    ],
    ['someone else', incoming, false],
  ])('%s → %s', (_name, body, expected) => {
    expect(normalized(body).isSender).toBe(expected);
  });

  it('an own-message echo (is_sender, phone_number, no user_id) is the account’s', () => {
    expect(normalized(ownEcho({ account })).isSender).toBe(true);
  });
});

describe('attachments in every shape seen', () => {
  it.each([
    [
      'the documented object with strings',
      {
        id: 'a1',
        mimetype: 'image/png',
        filename: 'a.png',
        file_size: '2048',
        size: { width: '200', height: '150' },
      },
      { id: 'a1', mimetype: 'image/png', filename: 'a.png', fileSize: 2048, width: 200, height: 150 },
    ],
    [
      'mime_type, file_name and a bare size in bytes',
      { id: 'a2', mime_type: 'application/pdf', file_name: 'cv.pdf', size: 48213, type: 'file' },
      {
        id: 'a2',
        mimetype: 'application/pdf',
        filename: 'cv.pdf',
        fileSize: 48213,
        width: null,
        height: null,
      },
    ],
    [
      'a size given as a numeric string',
      { id: 'a3', size: '1024' },
      { id: 'a3', fileSize: 1024, width: null, height: null },
    ],
    [
      'unreadable optional fields',
      { id: 'a4', size: 'big', sticker: 'maybe', mimetype: 5, url: ['x'] },
      { id: 'a4', fileSize: null, sticker: false, mimetype: '5', url: null },
    ],
  ])('%s', (_name, attachment, expected) => {
    expect(normalized({ ...incoming, attachments: [attachment] }).attachments).toEqual([
      expect.objectContaining(expected),
    ]);
  });

  it('skips elements that are not attachments', () => {
    expect(normalized({ ...incoming, attachments: [null, 'x', 3, { id: 'ok' }] }).attachments).toEqual([
      expect.objectContaining({ id: 'ok' }),
    ]);
  });
});

describe('the provider timestamp', () => {
  it('is read as an instant, in milliseconds since the epoch', () => {
    const event = normalized({ ...incoming, timestamp: '2026-03-01T10:00:00.123+01:00' });
    expect(event.occurredAt?.toISOString()).toBe('2026-03-01T09:00:00.123Z');
    expect(event.providerTime).toBe(Date.parse('2026-03-01T09:00:00.123Z'));
  });

  it('is kept as sent when unreadable, and null when absent', () => {
    expect(normalized({ ...incoming, timestamp: 'soon' }).providerTime).toBe('soon');
    expect(normalized({ ...incoming, timestamp: undefined }).providerTime).toBeNull();
  });
});
