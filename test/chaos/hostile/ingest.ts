import fc from 'fast-check';
import { expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import type { Expectation } from './tally.js';
import type { Target } from './target.js';

const MiB = 1024 * 1024;
const REJECTED = { status: 400, code: ['HL_ERR_INVALID_JSON', 'HL_ERR_INVALID_PAYLOAD'] };
const STORED_OR_REJECTED = { status: [200, 400], code: REJECTED.code };

/** Strings an attacker hopes reach SQL unescaped; each must come back byte for byte. */
export const SQL_LOOKING = [
  "'; DROP TABLE messages; --",
  '" OR 1=1 --',
  "x' OR '1'='1",
  '$$; select pg_sleep(30); $$',
  "'); delete from chats where ('1'='1",
  '1; update accounts set status = null',
  '\\x27 union select * from inbound_events --',
  '%27%20or%201%3D1',
];

/** Unicode that is valid and must be stored verbatim. */
const ODD_UNICODE = [
  '\u202Eevil\u202C txt.exe',
  '👨‍👩‍👧‍👦 family 🏳️‍🌈',
  'e\u0301\u0301\u0301 Z̴̡̛a̸l̵g̷o̶',
  '\uFEFF bom \u200B zero width \u2028 line sep',
  '𝕳𝖔𝖔𝖐𝖑𝖎𝖓𝖊 \u{10FFFF}',
];

/** Attacks on `POST /api/webhooks/unipile/messages`. */
export function ingestAttacks(target: () => Target): void {
  const post = (body: unknown, options: { headers?: Record<string, string>; expect?: Expectation } = {}) =>
    target().tally.http({
      method: 'POST',
      path: UNIPILE_WEBHOOK_PATH,
      headers: { 'unipile-auth': target().gateway.secrets.inbound, ...options.headers },
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      ...(options.expect ?? { status: 200 }),
    });

  it('refuses a missing or wrong Unipile-Auth with 401, before reading the body', async () => {
    const { inbound } = target().gateway.secrets;
    const wrong = [
      '',
      'x',
      inbound.slice(0, -1),
      `${inbound}x`,
      inbound.toUpperCase(),
      `${inbound},${inbound}`,
      `Bearer ${inbound}`,
      'a'.repeat(8000),
    ];
    const body = JSON.stringify(messageReceived());
    for (const secret of wrong) {
      await post(body, {
        headers: { 'unipile-auth': secret },
        expect: { status: 401, code: 'HL_ERR_UNAUTHORIZED' },
      });
    }
    await target().tally.http({
      method: 'POST',
      path: UNIPILE_WEBHOOK_PATH,
      body,
      status: 401,
      code: 'HL_ERR_UNAUTHORIZED',
    });
    // The secret in the wrong header, or in the query string, is not the secret in the right header.
    await target().tally.http({
      method: 'POST',
      path: `${UNIPILE_WEBHOOK_PATH}?unipile-auth=${inbound}`,
      headers: { authorization: `Bearer ${inbound}` },
      body,
      status: 401,
      code: 'HL_ERR_UNAUTHORIZED',
    });
    target().expectClean();
  });

  it('parses any content type as JSON, as Unipile sends none', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'a/b; c=d', '']) {
      await post(JSON.stringify(messageReceived()), { headers: { 'content-type': type } });
    }
    target().expectClean();
  });

  it('rejects malformed JSON and unusable payloads with 400, wrong types per field included', async () => {
    const malformed = ['', '{', '{"a":1,}', 'NaN', '[]', '"text"', 'null', '{"event":', '\u0000', 'true'];
    for (const body of malformed) await post(body, { expect: REJECTED });
    const base = messageReceived();
    const wrongValues: unknown[] = [null, 0, -1, 1.5, true, [], {}, [[]], 'x'.repeat(100_000), { $gt: '' }];
    for (const field of [
      'event',
      'account_id',
      'chat_id',
      'message_id',
      'sender',
      'attachments',
      'timestamp',
    ]) {
      for (const value of wrongValues)
        await post({ ...base, [field]: value }, { expect: STORED_OR_REJECTED });
    }
    target().expectClean();
  });

  it('answers 413 to 10 MiB bodies, with or without a length, and to 1 MiB + 1 byte', async () => {
    // Sent over a raw socket: the gateway answers 413 from the Content-Length alone and closes,
    // which an HTTP client still writing the body reports as EPIPE instead of the answer.
    await target().tally.raw(
      'POST 10 MiB with Content-Length',
      `POST ${UNIPILE_WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nUnipile-Auth: ${target().gateway.secrets.inbound}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`,
      Buffer.alloc(10 * MiB, 'a'),
      { status: 413, code: 'HL_ERR_PAYLOAD_TOO_LARGE' },
    );
    await post(`{"pad":"${'x'.repeat(MiB)}"}`, { expect: { status: 413, code: 'HL_ERR_PAYLOAD_TOO_LARGE' } });
    const chunk = `${(256 * 1024).toString(16)}\r\n${'b'.repeat(256 * 1024)}\r\n`;
    await target().tally.raw(
      'POST 10 MiB chunked',
      `POST ${UNIPILE_WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nUnipile-Auth: ${target().gateway.secrets.inbound}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n',
      Buffer.from(`${chunk.repeat(40)}0\r\n\r\n`),
      { status: 413, code: 'HL_ERR_PAYLOAD_TOO_LARGE' },
      // The gateway answers once the decoded body passes 1 MiB: just past it on the wire.
      MiB + 1024,
    );
    target().expectClean();
  });

  it('rejects 100k-deep nesting with 400, never a stack overflow', async () => {
    await post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, { expect: REJECTED });
    await post(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, { expect: REJECTED });
    await post(`${'['.repeat(100_000)}`, { expect: REJECTED });
    target().expectClean();
  });

  it('stores odd unicode verbatim and replaces only what Postgres cannot hold', async () => {
    const account = fakeAccount();
    for (const [index, text] of ODD_UNICODE.entries()) {
      const message = messageReceived({ account, chatId: 'chat_unicode', messageId: `uni_${index}`, text });
      await post(message);
      expect(await target().storedTexts(account.id, `uni_${index}`)).toEqual([text]);
    }
    const replaced: [string, string][] = [
      ['\\u0000', '\uFFFD'],
      ['\\ud83d', '\uFFFD'],
      ['\\udc00\\ud800', '\uFFFD\uFFFD'],
    ];
    for (const [index, [escaped, stored]] of replaced.entries()) {
      const message = messageReceived({
        account,
        chatId: 'chat_unicode',
        messageId: `esc_${index}`,
        text: 'T',
      });
      await post(JSON.stringify(message).replace('"T"', `"a${escaped}b"`));
      expect(await target().storedTexts(account.id, `esc_${index}`)).toEqual([`a${stored}b`]);
    }
    // The same in an unmodelled field (kept as jsonb) and in a key.
    const extra = messageReceived({ account, chatId: 'chat_unicode', messageId: 'esc_extra' });
    await post(JSON.stringify({ ...extra, x_note: 'low \udc00', 'k\u0000': 1 }));
    expect(await target().storedTexts(account.id, 'esc_extra')).toHaveLength(1);
    // Overlong and invalid UTF-8 bytes decode to U+FFFD: stored, not a crash.
    const raw = JSON.stringify(
      messageReceived({ account, chatId: 'chat_unicode', messageId: 'bytes', text: 'T' }),
    );
    const [before, after] = raw.split('"T"') as [string, string];
    const bytes = Buffer.concat([
      Buffer.from(`${before}"`),
      Buffer.from([0xc0, 0xaf, 0xff, 0xfe]),
      Buffer.from(`"${after}`),
    ]);
    await post(bytes);
    target().expectClean();
  });

  it('stores SQL-looking strings verbatim and exactly once, retries deduped', async () => {
    const account = fakeAccount();
    for (const [index, text] of SQL_LOOKING.entries()) {
      const message = messageReceived({ account, chatId: text, messageId: `${text}#${index}`, text });
      await post(message);
      const retry = await post(message);
      expect(retry.json).toEqual({ ok: true, duplicate: true });
      expect(await target().storedTexts(account.id, `${text}#${index}`)).toEqual([text]);
    }
    target().sqlStored = SQL_LOOKING.length;
    target().expectClean();
  });

  it('property: any JSON body, and any string in any field, is 200 or a coded 400', async () => {
    const base = messageReceived({ account: fakeAccount() });
    const fields = Object.keys(base);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value) ?? 'null'),
          fc
            .tuple(fc.constantFrom(...fields), fc.string({ unit: 'binary', maxLength: 300 }))
            .map(([field, value]) =>
              JSON.stringify({ ...base, message_id: `fc_${Math.random()}`, [field]: value }),
            ),
          fc
            .tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }))
            .map(([field, value]) =>
              JSON.stringify({ ...base, message_id: `fc_${Math.random()}`, [field]: value }),
            ),
        ),
        async (body) => {
          const answer = await post(body, { expect: STORED_OR_REJECTED });
          return answer.status === 200 || answer.status === 400;
        },
      ),
      { numRuns: 250 },
    );
    target().expectClean();
  });
}
