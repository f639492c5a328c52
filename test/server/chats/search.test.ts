import { describe, expect, it } from 'vitest';
import { MATCH_END, MATCH_START } from '../../../server/chats/queries/search.js';
import { splitHighlights } from '../../../server/chats/search-routes.js';
import {
  fakeAccount,
  fakeAttendee,
  followUp,
  messageReceived,
} from '../../../tools/fake-unipile/payloads.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { mintToken } from '../../support/realtime.js';
import { postWebhook } from '../../support/webhooks.js';

interface SearchAnswer {
  chats: { chatId: string }[];
  items: { messageId: string; chatId: string; snippet: string; highlights: [number, number][] }[];
  nextCursor: string | null;
}

describe('GET /api/search', () => {
  const t = useTestApp('postgres');
  const search = async (query: string, token = apiAuth.authorization) => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/search?${query}`,
      headers: { authorization: token },
    });
    return response;
  };
  const deliver = async (payload: unknown) =>
    expect((await postWebhook(t.app, payload)).statusCode).toBe(200);

  it('finds messages by a word, best match first, with the matched words marked', async () => {
    const account = fakeAccount();
    const once = messageReceived({ account, chatId: 'chat_s1', text: 'The invoice is attached' });
    const twice = messageReceived({
      account,
      chatId: 'chat_s2',
      text: 'Invoice 42: the invoice you asked for',
    });
    await deliver(once);
    await deliver(twice);
    await deliver(messageReceived({ account, chatId: 'chat_s3', text: 'nothing to see here' }));

    const answer = (await search(`q=invoice&accountId=${account.id}`)).json() as SearchAnswer;
    expect(answer.items.map((item) => item.messageId)).toEqual([twice.message_id, once.message_id]);
    const best = answer.items[0]!;
    expect(best.highlights.map(([start, end]) => best.snippet.slice(start, end).toLowerCase())).toEqual([
      'invoice',
      'invoice',
    ]);
    expect(best.snippet).not.toContain(MATCH_START);
  });

  it('pages through many matches without overlap or gap', async () => {
    const account = fakeAccount();
    for (let n = 0; n < 7; n++) {
      await deliver(
        messageReceived({ account, chatId: `chat_page_${n % 2}`, text: `quarterly report number ${n}` }),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = (
        await search(`q=quarterly&accountId=${account.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      ).json() as SearchAnswer;
      seen.push(...answer.items.map((item) => item.messageId));
      cursor = answer.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('finds chats by their people, and leaves deleted messages out', async () => {
    const account = fakeAccount();
    const gone = messageReceived({
      account,
      chatId: 'chat_people',
      text: 'zanzibar plans',
      sender: fakeAttendee('WHATSAPP', 'Grace Hopper'),
    });
    await deliver(gone);
    const answer = (await search(`q=hopper&accountId=${account.id}`)).json() as SearchAnswer;
    expect(answer.chats.map((chat) => chat.chatId)).toEqual(['chat_people']);
    expect((await search(`q=zanzibar&accountId=${account.id}`)).json().items).toHaveLength(1);
    await deliver(followUp('message_deleted', gone));
    expect((await search(`q=zanzibar&accountId=${account.id}`)).json().items).toHaveLength(0);
  });

  it("searches only the accounts a browser's token names", async () => {
    const mine = fakeAccount();
    const theirs = fakeAccount();
    await deliver(messageReceived({ account: mine, chatId: 'chat_scope_a', text: 'kumquat season' }));
    await deliver(messageReceived({ account: theirs, chatId: 'chat_scope_b', text: 'kumquat jam' }));
    const token = `Bearer ${await mintToken(t.app, [mine.id])}`;
    const response = await search('q=kumquat', token);
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json() as SearchAnswer;
    expect(answer.items.map((item) => item.chatId)).toEqual(['chat_scope_a']);
    expect((await search(`q=kumquat&accountId=${theirs.id}`, token)).json().items).toEqual([]);
  });

  it('refuses an empty query and a forged cursor with HL_ERR_INVALID_REQUEST', async () => {
    expect((await search('q=%20')).json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    expect((await search('q=x&cursor=bm9wZQ')).json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    expect((await search('q=a')).statusCode).toBe(200);
  });

  it('answers punctuation-only and operator-only queries with nothing, not an error', async () => {
    for (const q of ['!!!', '-', '"', 'or']) {
      const response = await search(`q=${encodeURIComponent(q)}`);
      expect(response.statusCode).toBe(200);
    }
  });
});

describe('splitHighlights', () => {
  it('turns marks into offsets of the text without them', () => {
    expect(splitHighlights(`a ${MATCH_START}bé${MATCH_END} c ${MATCH_START}d${MATCH_END}`)).toEqual({
      snippet: 'a bé c d',
      highlights: [
        [2, 4],
        [7, 8],
      ],
    });
  });
});
