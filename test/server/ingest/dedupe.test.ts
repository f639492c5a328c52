import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageDedupeKey } from '../../../server/ingest/dedupe.js';
import type { MessageEvent } from '../../../server/providers/events.js';

const base: MessageEvent = {
  kind: 'message',
  event: 'message_reaction',
  accountId: 'acc',
  accountType: 'WHATSAPP',
  accountUserId: null,
  chatId: 'chat',
  messageId: 'msg',
  providerChatId: null,
  providerMessageId: null,
  text: null,
  sender: null,
  isSender: false,
  attachments: [],
  quoted: null,
  isGroup: null,
  subject: null,
  attendees: [],
  reaction: { reaction: '👍', sender: { id: 'a', name: null, providerId: 'p1', profileUrl: null } },
  occurredAt: new Date(1_700_000_000_000),
  providerTime: 1_700_000_000_000,
  extra: null,
};

const reaction = (value: string, at: number): MessageEvent => ({
  ...base,
  reaction: { ...base.reaction!, reaction: value },
  occurredAt: new Date(at),
  providerTime: at,
});

describe('messageDedupeKey', () => {
  it('is the same for a retry of one delivery', () => {
    expect(messageDedupeKey({ ...base })).toBe(messageDedupeKey({ ...base, chatId: 'other', text: 'x' }));
  });

  it('tells 👍, removed, 👍 again apart by their timestamps', () => {
    const keys = [reaction('👍', 1), reaction('', 2), reaction('👍', 3)].map(messageDedupeKey);
    expect(new Set(keys).size).toBe(3);
  });

  it('tells an edit A → B → A apart', () => {
    const edit = (text: string, at: number) =>
      messageDedupeKey({ ...base, event: 'message_edited', reaction: null, text, providerTime: at });
    expect(new Set([edit('A', 1), edit('B', 2), edit('A', 3)]).size).toBe(3);
  });

  it('keeps events without a timestamp apart by their other parts only', () => {
    const untimed = { ...base, occurredAt: null, providerTime: null };
    expect(messageDedupeKey(untimed)).toBe(messageDedupeKey({ ...untimed }));
    expect(messageDedupeKey(untimed)).not.toBe(messageDedupeKey(base));
  });

  it('never makes two different lists of parts collide (no separator to forge)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (a1, m1, a2, m2) => {
        fc.pre(a1 !== a2 || m1 !== m2);
        const key = (accountId: string, messageId: string) =>
          messageDedupeKey({ ...base, event: 'message_read', reaction: null, accountId, messageId });
        expect(key(a1, m1)).not.toBe(key(a2, m2));
      }),
    );
    const joined = (accountId: string, messageId: string) =>
      messageDedupeKey({ ...base, event: 'message_read', reaction: null, accountId, messageId });
    expect(joined('a\u001fb', 'c')).not.toBe(joined('a', 'b\u001fc'));
  });
});
