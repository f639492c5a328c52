import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../tools/fake-unipile/cast.js';
import type {
  UnipileAccountStatusPayload,
  UnipileMessagingPayload,
} from '../../../tools/fake-unipile/payloads.js';
import { type TrafficItem, TrafficScenario } from '../../../tools/fake-unipile/scenario.js';

const stream = (seed: number, count: number): TrafficItem[] => {
  const scenario = new TrafficScenario(seededRandom(seed));
  return Array.from({ length: count }, () => scenario.next());
};
const messaging = (items: TrafficItem[]) =>
  items
    .map((item) => item.payload)
    .filter((payload): payload is UnipileMessagingPayload => 'event' in payload);
/** Everything but the time each payload was made, which follows the clock. */
const content = (items: TrafficItem[]) =>
  items.map((item) => JSON.stringify({ ...item, payload: { ...item.payload, timestamp: undefined } }));

describe('the fake provider traffic scenario', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    expect(content(stream(42, 400))).toEqual(content(stream(42, 400)));
    expect(content(stream(43, 400))).not.toEqual(content(stream(42, 400)));
  });

  it('reads like real conversations: named people on four networks, groups, varied text, files', () => {
    const received = messaging(stream(7, 600)).filter((payload) => payload.event === 'message_received');
    expect(new Set(received.map((payload) => payload.account_type))).toEqual(
      new Set(['WHATSAPP', 'LINKEDIN', 'INSTAGRAM', 'TELEGRAM']),
    );
    const people = new Set(
      received
        .map((payload) => payload.sender.attendee_name)
        .filter((name) => name !== 'Me' && !name.startsWith('+')),
    );
    expect(people.size).toBeGreaterThanOrEqual(12);
    const groups = received.filter((payload) => payload.is_group === 1);
    expect(new Set(groups.map((payload) => payload.subject))).toEqual(new Set(['Family 🏡', 'Maintainers']));
    expect(groups.every((payload) => payload.attendees.length >= 4)).toBe(true);
    const texts = new Set(received.map((payload) => payload.message));
    expect(texts.size).toBeGreaterThanOrEqual(60);
    expect([...texts].some((text) => /^message \d+$/.test(text ?? ''))).toBe(false);
    const files = received.flatMap(
      (payload) => payload.attachments as { filename: string; file_size: number }[],
    );
    expect(new Set(files.map((file) => file.filename)).size).toBeGreaterThanOrEqual(5);
    expect(files.every((file) => file.file_size > 0)).toBe(true);
    // A message from a person is theirs; one from the account is the account user's.
    for (const payload of received) {
      const inChat = payload.attendees.some(
        (attendee) => attendee.attendee_id === payload.sender.attendee_id,
      );
      expect(inChat || payload.is_sender === true).toBe(true);
    }
  });

  it('follows up on messages it sent, in their chat: reactions by others, typo fixes, a deletion now and then', () => {
    const payloads = messaging(stream(11, 1500));
    const messages = new Map(
      payloads
        .filter((payload) => payload.event === 'message_received')
        .map((payload) => [payload.message_id, payload]),
    );
    const followUps = payloads.filter((payload) => payload.event !== 'message_received');
    for (const payload of followUps) {
      const original = messages.get(payload.message_id);
      expect(original, payload.event).toBeDefined();
      expect(payload.chat_id).toBe(original!.chat_id);
      expect(payload.account_id).toBe(original!.account_id);
    }
    const reactions = followUps.filter((payload) => payload.event === 'message_reaction');
    expect(new Set(reactions.map((payload) => payload.reaction)).size).toBeGreaterThanOrEqual(4);
    for (const reaction of reactions) {
      const reactor = reaction.reaction_sender as { attendee_id: string };
      expect(reactor.attendee_id).not.toBe(messages.get(reaction.message_id)!.sender.attendee_id);
    }
    const edits = followUps.filter((payload) => payload.event === 'message_edited');
    expect(edits.length).toBeGreaterThan(0);
    for (const edit of edits.slice(1)) {
      // A fix swaps two letters back: same length, same letters.
      const before = messages.get(edit.message_id)!.message ?? '';
      expect(edit.message).not.toBe(before);
      expect([...(edit.message ?? '')].sort()).toEqual([...before].sort());
    }
    const deletions = followUps.filter((payload) => payload.event === 'message_deleted').length;
    expect(deletions).toBeGreaterThan(0);
    expect(deletions).toBeLessThan(messages.size / 10);
  });

  it('brings an account that needs attention back a while later', () => {
    const statuses = stream(5, 6000)
      .map((item) => item.payload)
      .filter((payload): payload is UnipileAccountStatusPayload => 'AccountStatus' in payload)
      .map((payload) => payload.AccountStatus);
    const attention = statuses.findIndex((status) =>
      ['CREDENTIALS', 'ERROR', 'STOPPED'].includes(status.message),
    );
    expect(attention).toBeGreaterThanOrEqual(0);
    const account = statuses[attention]!.account_id;
    expect(
      statuses
        .slice(attention + 1)
        .some((status) => status.account_id === account && status.message === 'RECONNECTED'),
    ).toBe(true);
  });
});
