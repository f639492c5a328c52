import fc from 'fast-check';
import { it } from 'vitest';
import type { Target } from './target.js';
import { forgedTokens, mintToken } from './tokens.js';

const UNAUTHORIZED = { status: 401, code: 'HL_ERR_UNAUTHORIZED' };
const INVALID = { status: 400, code: 'HL_ERR_INVALID_REQUEST' };
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Attacks on `/api/chats`, `/api/chats/:chatId/messages` and `/api/chats/:chatId/read`. */
export function readApiAttacks(target: () => Target): void {
  // chat_seed exists (the test file ingests it), so cursors on its messages are decoded.
  const routes = ['/api/chats', '/api/chats/chat_seed/messages'];

  it('refuses missing, malformed and forged credentials with 401', async () => {
    const t = target();
    const { api, jwt, inbound } = t.gateway.secrets;
    const valid = await mintToken(t, ['acc_read']);
    const forged = Object.values(await forgedTokens(jwt, valid));
    const headers: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${api}x` },
      { authorization: `Bearer ${api.slice(1)}` },
      { authorization: `Basic ${Buffer.from(`user:${api}`).toString('base64')}` },
      { authorization: `Bearer ${inbound}` },
      { 'unipile-auth': inbound },
      ...forged.map((token) => ({ authorization: `Bearer ${token}` })),
    ];
    for (const route of routes) {
      for (const header of headers) await t.tally.http({ path: route, headers: header, ...UNAUTHORIZED });
      // A token in the query string is not a credential for the read API.
      await t.tally.http({ path: `${route}?token=${valid}`, ...UNAUTHORIZED });
    }
    for (const header of headers.slice(0, 8)) {
      await t.tally.http({ path: '/api/chats/chat_x/read', headers: header, body: {}, ...UNAUTHORIZED });
    }
    t.expectClean();
  });

  it('refuses bad cursors and limits with 400', async () => {
    const t = target();
    const cursors = [
      'x',
      '!!!',
      '%00',
      cursorOf('text'),
      cursorOf({ lastMessageAt: 'yesterday', accountId: 'a', id: 'b' }),
      cursorOf({ lastMessageAt: '0000-01-01T00:00:00Z', accountId: 'a', id: 'b' }),
      cursorOf({ sentAt: '2026-01-01T00:00:00Z', id: 1 }),
      cursorOf({ lastMessageAt: '2026-01-01T00:00:00Z', accountId: "'; drop table chats; --", id: '\u0000' }),
      'A'.repeat(1001),
      `${cursorOf({ lastMessageAt: '2026-01-01T00:00:00Z', accountId: 'a', id: 'b' })}&cursor=x`,
    ];
    const limits = [
      '0',
      '-1',
      '101',
      '1e3',
      'abc',
      '1.5',
      '9007199254740993',
      '%00',
      'Infinity',
      '5&limit=6',
    ];
    for (const route of routes) {
      for (const cursor of cursors)
        await t.tally.http({ path: `${route}?cursor=${cursor}`, headers: t.apiAuth, ...INVALID });
      for (const limit of limits)
        await t.tally.http({ path: `${route}?limit=${limit}`, headers: t.apiAuth, ...INVALID });
    }
    await t.tally.http({ path: '/api/chats?limit=100', headers: t.apiAuth, status: 200 });
    t.expectClean();
  });

  it('answers odd chat ids with 404 or 400, never 500', async () => {
    const t = target();
    const notFound = [
      encodeURIComponent('💬\u202Echat'),
      encodeURIComponent("'; drop table chats; --"),
      encodeURIComponent('$1'),
      'a'.repeat(512),
      '%20',
    ];
    // A "/" in an id would walk the provider's path: refused (400).
    const invalid = ['%00', '%E0', '%ED%A0%80', '%C0%AF', '..%2F..%2Fetc%2Fpasswd'];
    for (const chatId of notFound) {
      await t.tally.http({
        path: `/api/chats/${chatId}/messages`,
        headers: t.apiAuth,
        status: 404,
        code: 'HL_ERR_NOT_FOUND',
      });
      await t.tally.http({
        path: `/api/chats/${chatId}/read`,
        headers: t.apiAuth,
        body: {},
        status: 404,
        code: 'HL_ERR_NOT_FOUND',
      });
    }
    for (const chatId of invalid) {
      await t.tally.http({ path: `/api/chats/${chatId}/messages`, headers: t.apiAuth, ...INVALID });
      await t.tally.http({ path: `/api/chats/${chatId}/read`, headers: t.apiAuth, body: {}, ...INVALID });
    }
    // Longer than Node accepts in a request line: refused before routing, in our format.
    await t.tally.http({
      path: `/api/chats/${'a'.repeat(100_000)}/messages`,
      headers: t.apiAuth,
      status: 431,
    });
    for (const body of ['{', '[]', '"x"', '{"accountId":1}', '{"accountId":""}', '{"accountId":"\\u0000"}']) {
      await t.tally.http({
        path: '/api/chats/chat_x/read',
        headers: { ...t.apiAuth, 'content-type': 'application/json' },
        body,
        status: 400,
        code: ['HL_ERR_INVALID_JSON', 'HL_ERR_INVALID_REQUEST'],
      });
    }
    t.expectClean();
  });

  it('property: any chat id, cursor, limit and accountId is 200, 400 or 404', async () => {
    const t = target();
    const anyText = fc.string({ unit: 'grapheme', maxLength: 200 });
    const limits = fc.oneof(anyText, fc.integer({ min: -5, max: 200 }).map(String));
    const chatIds = fc.oneof(anyText, fc.constant('chat_seed'));
    await fc.assert(
      fc.asyncProperty(chatIds, anyText, limits, anyText, async (chatId, cursor, limit, accountId) => {
        const query = new URLSearchParams({ cursor, limit, accountId }).toString();
        const path = `/api/chats/${encodeURIComponent(chatId) || 'x'}/messages?${query}`;
        const answer = await t.tally.http({ path, headers: t.apiAuth, status: [200, 400, 404, 414] });
        return answer.status < 500 && answer.status > 0;
      }),
      { numRuns: 150 },
    );
    t.expectClean();
  });
}
