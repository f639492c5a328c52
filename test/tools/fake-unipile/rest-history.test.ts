import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../tools/fake-unipile/cast.js';
import { fakeAccount, followUp, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { FakeRestHistory } from '../../../tools/fake-unipile/rest-history.js';
import { TrafficScenario } from '../../../tools/fake-unipile/scenario.js';

const all = (history: FakeRestHistory, accountId: string) => history.page({ accountId, limit: 250 }).items;

describe("the fake provider's REST history", () => {
  it('lists a retried message once and applies a follow-up that came before its message', () => {
    const history = new FakeRestHistory();
    const account = fakeAccount('LINKEDIN');
    const message = messageReceived({ account, text: 'hello' });
    const me = { attendee_id: 'self', attendee_name: 'Me', attendee_provider_id: account.userId };
    history.record(followUp('message_reaction', message, { reaction: '🔥', reaction_sender: me }));
    history.record(followUp('message_edited', message, { message: 'hello there' }));
    history.record(message);
    history.record(message);
    const items = all(history, account.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      text: 'hello there',
      edited: 1,
      reactions: [{ value: '🔥', sender_id: account.userId, is_sender: 1 }],
    });
  });

  it('holds every message of the traffic scenario once, with its latest state', () => {
    const history = new FakeRestHistory();
    const scenario = new TrafficScenario(seededRandom(3));
    const received = new Set<string>();
    const deleted = new Set<string>();
    for (let index = 0; index < 800; index++) {
      const { payload } = scenario.next();
      if ('AccountStatus' in payload) continue;
      history.record(payload);
      if (payload.event === 'message_received') received.add(payload.message_id);
      if (payload.event === 'message_deleted') deleted.add(payload.message_id);
    }
    const listed = [...history.accounts.keys()].flatMap((accountId) => all(history, accountId));
    expect(listed.map((message) => message.id).sort()).toEqual([...received].sort());
    const gone = listed.filter((message) => message.deleted === 1).map((message) => message.id);
    expect(gone.sort()).toEqual([...deleted].filter((id) => received.has(id)).sort());
    expect(history.accounts.size).toBe(4);
    expect(
      [...history.chats.values()]
        .filter((chat) => chat.isGroup)
        .map((chat) => chat.name)
        .sort(),
    ).toEqual(['Family 🏡', 'Maintainers']);
  });
});
