import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeUnipileWebhook } from '../../../../server/providers/unipile/normalize.js';
import { parseUnipileWebhook } from '../../../../server/providers/unipile/webhook-schema.js';
import {
  accountStatus,
  documentedVariant,
  fakeAccount,
  fakeAttachment,
  followUp,
  messageReceived,
} from '../../../../tools/fake-unipile/payloads.js';

const account = fakeAccount('WHATSAPP', 'acc_schema');
const valid = messageReceived({
  account,
  chatId: 'chat_1',
  messageId: 'msg_1',
  attachments: [fakeAttachment()],
});

function accepted(body: unknown) {
  const result = parseUnipileWebhook(body);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.issues)}`);
  if (result.webhook.kind === 'ignored') throw new Error('expected a webhook Hookline handles');
  return normalizeUnipileWebhook(result.webhook);
}

function rejectedPaths(body: unknown): string[] {
  const result = parseUnipileWebhook(body);
  if (result.ok) throw new Error('expected rejection');
  return result.issues.map((issue) => issue.path.join('.'));
}

describe('Unipile webhook schema', () => {
  it('normalises a real message_received payload', () => {
    const event = accepted(valid);
    expect(event).toMatchObject({
      kind: 'message',
      event: 'message_received',
      accountId: 'acc_schema',
      accountType: 'WHATSAPP',
      chatId: 'chat_1',
      messageId: 'msg_1',
      text: valid.message,
      isSender: false,
      isGroup: false,
      sender: { name: valid.sender.attendee_name, providerId: valid.sender.attendee_provider_id },
      attachments: [{ type: 'img', fileSize: 48213, width: 960, height: 1280, sticker: false }],
    });
  });

  it('accepts the documented variant: attachments as one object with strings, booleans as strings', () => {
    const event = accepted(documentedVariant(valid));
    expect(event).toMatchObject({
      isGroup: false,
      attachments: [
        { id: 'att_1', fileSize: 2048, width: 200, height: 150, sticker: false, unavailable: false },
      ],
    });
  });

  it.each([
    ['is_group as 1', { is_group: 1 }, { isGroup: true }],
    ['is_group as true', { is_group: true }, { isGroup: true }],
    ['is_group as "0"', { is_group: '0' }, { isGroup: false }],
    ['folder as a string', { folder: 'INBOX' }, {}],
    ['attachments null', { attachments: null }, { attachments: [] }],
    ['attachments absent', { attachments: undefined }, { attachments: [] }],
    [
      'quoted as an object',
      { quoted: { id: 'q1', text: 'earlier' } },
      { quoted: { id: 'q1', text: 'earlier' } },
    ],
    ['numeric ids', { message_id: 12345 }, { messageId: '12345' }],
    ['an unreadable timestamp', { timestamp: 'yesterday-ish' }, { occurredAt: null }],
    ['a null message (attachment only)', { message: null }, { text: null }],
  ])('accepts %s', (_name, change, expected) => {
    expect(accepted({ ...valid, ...change })).toMatchObject(expected);
  });

  it('marks the account’s own messages (sent from another device) as isSender', () => {
    expect(accepted(messageReceived({ account, fromAccount: true }))).toMatchObject({ isSender: true });
  });

  it('keeps unknown fields verbatim in extra', () => {
    const event = accepted({ ...valid, brand_new_field: { nested: [1, 2] } });
    expect(event.kind === 'message' && event.extra).toMatchObject({
      brand_new_field: { nested: [1, 2] },
      chat_content_type: null,
      folder: ['INBOX'],
    });
  });

  it('accepts every follow-up event type and reads the reaction', () => {
    for (const type of ['message_read', 'message_edited', 'message_deleted', 'message_delivered'] as const) {
      expect(accepted(followUp(type, valid))).toMatchObject({ event: type, messageId: 'msg_1' });
    }
    expect(accepted(followUp('message_reaction', valid))).toMatchObject({
      reaction: { reaction: '👍', sender: { providerId: valid.attendees[1]!.attendee_provider_id } },
    });
  });

  it('accepts account status payloads, known and unknown messages', () => {
    expect(accepted(accountStatus('acc_1', 'CREDENTIALS'))).toEqual({
      kind: 'account_status',
      accountId: 'acc_1',
      accountType: 'WHATSAPP',
      status: 'CREDENTIALS',
    });
    expect(accepted({ AccountStatus: { account_id: 'acc_1', message: 'SOMETHING_NEW' } })).toMatchObject({
      status: 'SOMETHING_NEW',
    });
  });

  // One valid payload, broken one field at a time: only what Hookline must have is refused.
  it.each([
    ['account_id missing', { account_id: undefined }, 'account_id'],
    ['account_id empty', { account_id: '' }, 'account_id'],
    ['account_id an object', { account_id: { id: 1 } }, 'account_id'],
    ['chat_id missing', { chat_id: undefined }, 'chat_id'],
    ['chat_id null', { chat_id: null }, 'chat_id'],
    ['message_id missing', { message_id: undefined }, 'message_id'],
    ['message_id too long', { message_id: 'x'.repeat(513) }, 'message_id'],
  ])('rejects a payload with %s, naming the field', (_name, change, path) => {
    expect(rejectedPaths({ ...valid, ...change })).toContain(path);
  });

  // The same payload with one optional field in a shape Hookline does not read: still accepted.
  it.each([
    ['message a number', { message: 42 }, { text: '42' }],
    ['message an object', { message: { text: 'hi' } }, { text: null }],
    ['sender a string', { sender: 'bob' }, { sender: null }],
    ['attendees an object', { attendees: { a: 1 } }, { attendees: [] }],
    ['attachments a string', { attachments: 'photo.jpg' }, { attachments: [] }],
    ['is_group 2', { is_group: 2 }, { isGroup: null }],
    ['is_group "maybe"', { is_group: 'maybe' }, { isGroup: null }],
    ['folder a number', { folder: 3 }, {}],
    ['timestamp a number', { timestamp: 1700000000 }, { occurredAt: null, providerTime: 1700000000 }],
    ['account_info a list', { account_info: [1] }, { accountUserId: null }],
  ])('tolerates %s', (_name, change, expected) => {
    expect(accepted({ ...valid, ...change })).toMatchObject(expected);
  });

  it.each([
    ['null', null],
    ['an array', [valid]],
    ['a string', 'message_received'],
    ['a number', 42],
    ['AccountStatus without account_id', { AccountStatus: { message: 'OK' } }],
    ['AccountStatus without message', { AccountStatus: { account_id: 'a' } }],
  ])('rejects %s', (_name, body) => {
    expect(parseUnipileWebhook(body).ok).toBe(false);
  });

  it.each([
    ['another event', { event: 'mail_received', account_id: 'acc_1' }, 'mail_received'],
    [
      'no event (a hosted-auth callback)',
      { status: 'CREATION_SUCCESS', account_id: 'a', name: 'u1' },
      'none',
    ],
    ['an empty object', {}, 'none'],
    ['an event that is not a plain name', { event: 'x y\n' }, 'other'],
    ['an event that is not a string', { event: 7 }, 'other'],
  ])('classifies %s as a source Hookline does not handle', (_name, body, source) => {
    expect(parseUnipileWebhook(body)).toEqual({
      ok: true,
      webhook: { kind: 'ignored', payload: { source } },
    });
  });

  it('never throws, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        const result = parseUnipileWebhook(body);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a valid message with any JSON value in any optional field', () => {
    const optional = Object.keys(valid).filter(
      (field) => !['event', 'account_id', 'chat_id', 'message_id'].includes(field),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...optional, 'is_sender', 'reaction_sender'),
        fc.jsonValue(),
        (field, value) => {
          const result = parseUnipileWebhook({ ...valid, [field]: value });
          expect(result.ok && result.webhook.kind).toBe('messaging');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on a valid payload with one field replaced by anything', () => {
    const fields = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const result = parseUnipileWebhook({ ...valid, [field]: value });
        const webhook = result.ok ? result.webhook : null;
        if (webhook && webhook.kind !== 'ignored')
          expect(() => normalizeUnipileWebhook(webhook)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});
