import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { Target } from './target.js';

/** A public IP literal: valid for creation without DNS, never reached (endpoints stay disabled). */
const PUBLIC_URL = 'https://1.1.1.1/hook';
const INVALID = { status: 400, code: 'HL_ERR_INVALID_REQUEST' };
const FORBIDDEN = { status: 403, code: 'HL_ERR_FORBIDDEN' };

/** Attacks on the outbound endpoints API: injection, SSRF, out-of-range fields, bad parameters. */
export function outboundAttacks(target: () => Target): void {
  const create = (body: unknown, expected: { status: number | number[]; code?: string }) =>
    target().tally.http({ path: '/api/endpoints', headers: target().apiAuth, body, ...expected });

  /** Creates a disabled endpoint; its secret joins the ones that must never show up again. */
  const createValid = async (extra: Record<string, unknown> = {}) => {
    const t = target();
    const body = { url: PUBLIC_URL, enabled: false, ...extra };
    const answer = await t.tally.http({ path: '/api/endpoints', headers: t.apiAuth, body, status: 201 });
    const created = answer.json as { id: string; secret: string };
    t.tally.addSecret(created.secret);
    return created;
  };

  it('refuses header injection and overrides of the headers Hookline sets', async () => {
    const names = ['X-A\r\nHost: evil', 'X-A\nB', 'X A', 'X-A:', '', 'X-\u00e9', 'X-A\u0000'];
    const values = ['1\r\nHost: evil', '1\nX-Injected: 1', '1\r', 'a\u0000b', '\u0100', 'x'.repeat(2001)];
    const reserved = [
      'Webhook-Signature',
      'webhook-id',
      'WEBHOOK-TIMESTAMP',
      'Content-Type',
      'HOST',
      'Content-Length',
    ];
    const more = ['Transfer-Encoding', 'Connection', 'User-Agent', 'Proxy-Authorization', 'Upgrade', 'TE'];
    for (const name of [...names, ...reserved, ...more])
      await create({ url: PUBLIC_URL, headers: { [name]: 'v' } }, INVALID);
    for (const value of values) await create({ url: PUBLIC_URL, headers: { 'X-Custom': value } }, INVALID);
    await create({ url: PUBLIC_URL, headers: { 'X-A': '1', 'x-a': '2' } }, INVALID);
    await create(
      { url: PUBLIC_URL, headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-${i}`, 'v'])) },
      INVALID,
    );
    await create({ url: PUBLIC_URL, headers: { 'X-A': 1 } }, INVALID);
    await create({ url: PUBLIC_URL, headers: ['X-A: 1'] }, INVALID);
    // Allowed headers are kept (shown masked: they are often credentials), and PATCH is held to
    // the same rules.
    const { id } = await createValid({ headers: { 'X-Tenant': 'acme', Authorization: 'Bearer sub' } });
    await target().tally.http({
      method: 'PATCH',
      path: `/api/endpoints/${id}`,
      headers: target().apiAuth,
      body: { headers: { 'Webhook-Signature': 'v1,forged' } },
      ...INVALID,
    });
    const shown = await target().tally.http({
      path: `/api/endpoints/${id}`,
      headers: target().apiAuth,
      status: 200,
    });
    expect((shown.json as { headers: unknown }).headers).toEqual({
      'X-Tenant': '********',
      Authorization: '********',
    });
    target().expectClean();
  });

  it('refuses non-http URLs with 400 and private or reserved addresses with 403', async () => {
    const bad = [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'ftp://1.1.1.1/x',
      'data:text/plain,hi',
      'gopher://1.1.1.1:70/_',
      'ws://1.1.1.1/',
      '//1.1.1.1/x',
      'https://user:pass@1.1.1.1/',
      'http://',
      `https://1.1.1.1/${'a'.repeat(2000)}`,
      'https://1.1.1.1/\r\nHost: evil',
      12,
    ];
    for (const url of bad) await create({ url }, INVALID);
    await create(
      { url: `https://1.1.1.1/${'a'.repeat(2 * 1024 * 1024)}` },
      { status: 413, code: 'HL_ERR_PAYLOAD_TOO_LARGE' },
    );
    const ssrf = [
      'http://127.0.0.1/',
      'http://127.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://224.0.0.1/',
      'http://localhost:3000/',
    ];
    for (const url of ssrf) await create({ url }, FORBIDDEN);
    const { id } = await createValid();
    await target().tally.http({
      method: 'PATCH',
      path: `/api/endpoints/${id}`,
      headers: target().apiAuth,
      body: { url: 'http://169.254.169.254/' },
      ...FORBIDDEN,
    });
    target().expectClean();
  });

  it('refuses bad eventTypes, out-of-range numbers and unknown fields with 400', async () => {
    const bodies: Record<string, unknown>[] = [
      { eventTypes: ['nope'] },
      { eventTypes: [] },
      { eventTypes: 'message.received' },
      { eventTypes: [1] },
      { eventTypes: ['message.received', { $ne: null }] },
      { accountIds: [] },
      { accountIds: [''] },
      { accountIds: Array.from({ length: 1001 }, (_, i) => `a${i}`) },
      ...[-1, 0, 101, 1.5, 1e20, '5', Number.NaN].map((maxAttempts) => ({ maxAttempts })),
      ...[-1, 0, 10_001, 2.5, 1e308, 'fast'].map((rateLimitPerSecond) => ({ rateLimitPerSecond })),
      { enabled: 'yes' },
      { description: 'x'.repeat(501) },
      { secret: 'whsec_mine' },
      { id: 'ep_chosen' },
      { evil: true },
    ];
    for (const body of bodies) await create({ url: PUBLIC_URL, ...body }, INVALID);
    for (const raw of ['{', '[]', 'null', '{"url":"https://1.1.1.1/","__proto__":{"enabled":true}}']) {
      await target().tally.http({
        path: '/api/endpoints',
        headers: { ...target().apiAuth, 'content-type': 'application/json' },
        body: raw,
        status: 400,
        code: ['HL_ERR_INVALID_JSON', 'HL_ERR_INVALID_REQUEST'],
      });
    }
    target().expectClean();
  });

  it('refuses bad ids and parameters on deliveries, stats, recover and retry', async () => {
    const t = target();
    const { id } = await createValid();
    const get = (path: string, expected: { status: number; code?: string }) =>
      t.tally.http({ path, headers: t.apiAuth, ...expected });
    for (const query of [
      'status=bogus',
      'limit=0',
      'limit=201',
      'limit=abc',
      'cursor=-1',
      'cursor=abc',
      'cursor=1e400',
      'cursor=1.5',
    ]) {
      await get(`/api/endpoints/${id}/deliveries?${query}`, INVALID);
    }
    for (const since of [
      'yesterday',
      '0000-01-01T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '%00',
      `2026-01-01T00:00:00Z${'0'.repeat(500)}`,
    ]) {
      await get(`/api/endpoints/${id}/stats?since=${since}`, INVALID);
    }
    for (const body of [
      {},
      { since: 'x' },
      { since: '0000-01-01T00:00:00Z' },
      { since: '2026-01-01T00:00:00Z', all: true },
    ]) {
      await t.tally.http({ path: `/api/endpoints/${id}/recover`, headers: t.apiAuth, body, ...INVALID });
    }
    for (const bad of ['abc', '-1', '0', '1.5', '1e400', '99999999999999999999', '%00']) {
      await t.tally.http({
        method: 'POST',
        path: `/api/deliveries/${bad}/retry`,
        headers: t.apiAuth,
        ...INVALID,
      });
    }
    await t.tally.http({
      method: 'POST',
      path: '/api/deliveries/987654321/retry',
      headers: t.apiAuth,
      status: 404,
      code: 'HL_ERR_NOT_FOUND',
    });
    for (const other of ['ep_missing', encodeURIComponent("'; drop table endpoints; --")]) {
      await get(`/api/endpoints/${other}/stats`, { status: 404, code: 'HL_ERR_NOT_FOUND' });
    }
    await get(`/api/endpoints/${'e'.repeat(101)}`, INVALID);
    await get('/api/endpoints?limit=0', INVALID);
    await get('/api/endpoints?cursor=%00', INVALID);
    await get(`/api/endpoints/${id}/stats?since=2026-01-01T00:00:00%2B02:00`, { status: 200 });
    t.expectClean();
  });

  it('property: any endpoint body is 201, 400 or 403, and what is kept is safe', async () => {
    const t = target();
    const anyText = fc.string({ unit: 'binary', maxLength: 60 });
    const body = fc.record(
      {
        description: fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 })),
        eventTypes: fc.oneof(fc.array(anyText, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
        accountIds: fc.array(anyText, { maxLength: 3 }),
        headers: fc.dictionary(anyText, anyText, { maxKeys: 3 }),
        maxAttempts: fc.oneof(fc.integer(), fc.double(), anyText),
        rateLimitPerSecond: fc.oneof(fc.integer(), fc.constant(null), anyText),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (fields) => {
        const answer = await create({ url: PUBLIC_URL, enabled: false, ...fields }, { status: [201, 400] });
        if (answer.status !== 201) return answer.status === 400;
        const created = answer.json as { id: string; secret: string; headers: Record<string, string> };
        t.tally.addSecret(created.secret);
        const unsafe = Object.entries(created.headers).filter(
          ([name, value]) => /^(webhook-|content-|host$)/i.test(name) || /[\r\n\0]/.test(name + value),
        );
        await t.tally.http({
          method: 'DELETE',
          path: `/api/endpoints/${created.id}`,
          headers: t.apiAuth,
          status: 204,
        });
        return unsafe.length === 0;
      }),
      { numRuns: 120 },
    );
    t.expectClean();
  });
}
