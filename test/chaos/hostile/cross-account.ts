import { expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { waitFor } from '../../support/wait.js';
import { attempt } from './sockets.js';
import type { Target } from './target.js';
import { mintToken } from './tokens.js';

const NOT_FOUND = { status: 404, code: 'HL_ERR_NOT_FOUND' };

/**
 * Account A's connection token against account B's data: B's events never reach A's socket, and
 * the read API (which accepts connection tokens) never shows, counts or changes B's chats.
 */
export function crossAccountAttacks(target: () => Target): void {
  it('a token for account A never receives or reads account B', async () => {
    const t = target();
    const a = fakeAccount('LINKEDIN', `acc_a_${Date.now()}`);
    const b = fakeAccount('LINKEDIN', `acc_b_${Date.now()}`);
    const secretOfB = `secret-of-b-${Math.random()}`;
    const ingest = (body: unknown) =>
      t.tally.http({
        method: 'POST',
        path: UNIPILE_WEBHOOK_PATH,
        headers: { 'unipile-auth': t.gateway.secrets.inbound },
        body,
        status: 200,
      });
    // The same chat id in both accounts: the classic way to cross over.
    await ingest(messageReceived({ account: a, chatId: 'chat_shared', text: 'for a' }));
    await ingest(messageReceived({ account: b, chatId: 'chat_shared', text: secretOfB }));
    await ingest(messageReceived({ account: b, chatId: 'chat_only_b', text: secretOfB }));

    const token = await mintToken(t, [a.id]);
    const socket = await attempt(t, 'socket of A', `?token=${token}&since=0`, { status: 101 });
    if (!socket) throw new Error('A was refused');
    for (let index = 0; index < 20; index++) {
      await ingest(messageReceived({ account: b, chatId: 'chat_only_b', text: secretOfB }));
    }
    await ingest(
      messageReceived({ account: a, chatId: 'chat_shared', messageId: 'a_last', text: 'last for a' }),
    );
    await waitFor(() => socket.rawFrames.some((frame) => frame.includes('a_last')), 'A’s own live event');
    expect(socket.frames.filter((frame) => frame.data).map((frame) => frame.data?.accountId)).toEqual(
      socket.frames.filter((frame) => frame.data).map(() => a.id),
    );
    expect(socket.rawFrames.join('\n')).not.toContain(secretOfB);
    socket.socket.close();

    const asA = { authorization: `Bearer ${token}` };
    const chats = await t.tally.http({ path: '/api/chats?limit=100', headers: asA, status: 200 });
    const ofB = await t.tally.http({ path: `/api/chats?accountId=${b.id}`, headers: asA, status: 200 });
    const shared = await t.tally.http({ path: '/api/chats/chat_shared/messages', headers: asA, status: 200 });
    for (const answer of [chats, ofB, shared]) expect(answer.text).not.toContain(b.id);
    expect((ofB.json as { items: unknown[] }).items).toEqual([]);
    expect(shared.text).not.toContain(secretOfB);
    for (const path of [
      '/api/chats/chat_only_b/messages',
      `/api/chats/chat_only_b/messages?accountId=${b.id}`,
      `/api/chats/chat_shared/messages?accountId=${b.id}`,
    ]) {
      await t.tally.http({ path, headers: asA, ...NOT_FOUND });
    }
    await t.tally.http({ path: '/api/chats/chat_only_b/read', headers: asA, body: {}, ...NOT_FOUND });
    await t.tally.http({
      path: '/api/chats/chat_only_b/read',
      headers: asA,
      body: { accountId: b.id },
      ...NOT_FOUND,
    });
    // Marking the shared chat read as A touches only A's copy.
    await t.tally.http({ path: '/api/chats/chat_shared/read', headers: asA, body: {}, status: 200 });
    const unread = await t.gateway.db.query<{ unread_count: number }>(
      'select unread_count from chats where account_id = $1 order by id',
      [b.id],
    );
    expect(unread.rows.map((row) => row.unread_count)).toEqual([21, 1]);

    // A connection token is no API token: it can neither mint a broader one nor manage endpoints.
    for (const path of ['/api/endpoints', '/api/event-types']) {
      await t.tally.http({ path, headers: asA, status: 401, code: 'HL_ERR_UNAUTHORIZED' });
    }
    await t.tally.http({
      path: '/api/realtime/tokens',
      headers: asA,
      body: { accountIds: [b.id] },
      status: 401,
      code: 'HL_ERR_UNAUTHORIZED',
    });
    t.expectClean();
  });
}
