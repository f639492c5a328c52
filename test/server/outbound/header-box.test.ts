import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { endpoints } from '../../../drizzle/schema.js';
import { HooklineError } from '../../../server/errors.js';
import {
  MASKED_HEADER_VALUE,
  maskHeaders,
  openHeaders,
  pinHeaders,
  sealIncomingHeaders,
} from '../../../server/outbound/header-box.js';
import { apiAuth, buildTestApp, TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint } from '../../support/outbound.js';
import { startWebhookSink } from '../../support/webhook-sink.js';

const key = TEST_SECRETS.encryptionKey;
const credentials = { Authorization: 'Bearer sub-credential-0123', 'X-Api-Key': 'sk_live_abcdef' };
const HOST = 'hooks.example.com';
const sealHeaders = (headers: Record<string, string>) => pinHeaders(headers, key, HOST);

describe('header box', () => {
  it('seals every value, opens them back, and masks them all', () => {
    const sealed = sealHeaders(credentials);
    for (const value of Object.values(sealed)) expect(value).toMatch(/^hlenc:v1\./);
    expect(JSON.stringify(sealed)).not.toContain('sub-credential');
    expect(openHeaders(sealed, key, HOST)).toEqual(credentials);
    expect(sealHeaders(sealed)).toEqual(sealed);
    expect(maskHeaders(sealed)).toEqual({
      Authorization: MASKED_HEADER_VALUE,
      'X-Api-Key': MASKED_HEADER_VALUE,
    });
  });

  it('keeps a stored value sent back masked (names regardless of case), seals the others', () => {
    const stored = sealHeaders(credentials);
    const next = sealIncomingHeaders(
      { authorization: MASKED_HEADER_VALUE, 'X-New': 'fresh' },
      stored,
      key,
      HOST,
    );
    expect(next.authorization).toBe(stored.Authorization);
    expect(openHeaders(next, key, HOST)).toEqual({
      authorization: credentials.Authorization,
      'X-New': 'fresh',
    });
  });

  it('refuses a masked value with nothing stored to keep', () => {
    expect(() => sealIncomingHeaders({ 'X-A': MASKED_HEADER_VALUE }, {}, key, HOST)).toThrow(HooklineError);
  });

  it('never opens a value for another host than the one it was given for', () => {
    const sealed = sealHeaders(credentials);
    expect(openHeaders(sealed, key, 'attacker.example.net')).toEqual({});
    expect(openHeaders(sealed, key, 'hooks.example.com:8443')).toEqual({});
  });
});

describe.each(testDatabaseKinds())('custom headers at rest on %s', (kind) => {
  const t = useTestApp(kind);
  const stored = async (id: string) =>
    (await t.db.database.db.select().from(endpoints).where(eq(endpoints.id, id)))[0]?.headers as Record<
      string,
      string
    >;

  it('stores headers encrypted, shows them masked, sends them in clear, and a masked PATCH keeps them', async () => {
    const sink = await startWebhookSink();
    try {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/endpoints',
        headers: apiAuth,
        payload: { url: sink.url, headers: credentials },
      });
      expect(created.statusCode).toBe(201);
      const { id, headers } = created.json() as { id: string; headers: Record<string, string> };
      expect(headers).toEqual({ Authorization: MASKED_HEADER_VALUE, 'X-Api-Key': MASKED_HEADER_VALUE });
      expect(created.body).not.toContain('sub-credential');
      expect(JSON.stringify(await stored(id))).not.toContain('sub-credential');

      const shown = await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth });
      const listed = await t.app.inject({ method: 'GET', url: '/api/endpoints', headers: apiAuth });
      expect(shown.body + listed.body).not.toContain('sk_live');

      // The client round-trips what it read, changing one header: the masked one is kept.
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/api/endpoints/${id}`,
        headers: apiAuth,
        payload: { headers: { ...shown.json().headers, 'X-Api-Key': 'sk_live_rotated' } },
      });
      expect(patched.statusCode).toBe(200);
      expect(openHeaders(await stored(id), key, new URL(sink.url).host)).toEqual({
        Authorization: credentials.Authorization,
        'X-Api-Key': 'sk_live_rotated',
      });

      const test = await t.app.inject({ method: 'POST', url: `/api/endpoints/${id}/test`, headers: apiAuth });
      expect(test.statusCode).toBe(200);
      expect(sink.received.at(-1)?.headers).toMatchObject({
        authorization: credentials.Authorization,
        'x-api-key': 'sk_live_rotated',
      });
    } finally {
      await sink.close();
    }
  });

  it('refuses a masked value on create, with 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/endpoints',
      headers: apiAuth,
      payload: { url: 'https://hooks.example.com/x', headers: { 'X-A': MASKED_HEADER_VALUE } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('encrypts rows stored in plain text when the application starts', async () => {
    const { id } = await createEndpoint(t.app, { url: 'https://hooks.example.com/legacy' });
    await t.db.database.db.update(endpoints).set({ headers: credentials }).where(eq(endpoints.id, id));
    const restarted = await buildTestApp(t.db.database);
    try {
      await restarted.ready();
      const after = await stored(id);
      expect(JSON.stringify(after)).not.toContain('sub-credential');
      expect(openHeaders(after, key, HOST)).toEqual(credentials);
      expect(openHeaders(after, key, 'elsewhere.example.com')).toEqual({});
    } finally {
      await restarted.close();
    }
  });

  it('refuses a PATCH moving the URL to another host without the headers again (400 HL_ERR_HEADERS_REQUIRED)', async () => {
    const created = await createEndpoint(t.app, { url: 'https://hooks.example.com/a', headers: credentials });
    const patch = (payload: object) =>
      t.app.inject({ method: 'PATCH', url: `/api/endpoints/${created.id}`, headers: apiAuth, payload });
    for (const payload of [
      { url: 'https://attacker.example.net/a' },
      { url: 'https://attacker.example.net/a', headers: { Authorization: MASKED_HEADER_VALUE } },
      { url: 'https://hooks.example.com:8443/a' },
    ]) {
      const refused = await patch(payload);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('HL_ERR_HEADERS_REQUIRED');
    }
    // Same host, another path: the headers stay.
    expect((await patch({ url: 'https://hooks.example.com/b' })).statusCode).toBe(200);
    expect(openHeaders(await stored(created.id), key, HOST)).toEqual(credentials);
    // Re-supplied (or cleared) for the new host: accepted, pinned to it.
    expect(
      (await patch({ url: 'https://new.example.org/a', headers: { 'X-Api-Key': 'new-key' } })).statusCode,
    ).toBe(200);
    expect(openHeaders(await stored(created.id), key, 'new.example.org')).toEqual({ 'X-Api-Key': 'new-key' });
    expect((await patch({ url: 'https://other.example.org/a', headers: {} })).statusCode).toBe(200);
    expect(await stored(created.id)).toEqual({});
  });

  it('sends no stored header to a host it was not given for, whatever wrote the URL', async () => {
    const sink = await startWebhookSink();
    try {
      const { id } = await createEndpoint(t.app, {
        url: 'https://hooks.example.com/a',
        headers: credentials,
      });
      // The URL changed behind the API's back (a direct write, a race): the values stay home.
      await t.db.database.db.update(endpoints).set({ url: sink.url }).where(eq(endpoints.id, id));
      const test = await t.app.inject({ method: 'POST', url: `/api/endpoints/${id}/test`, headers: apiAuth });
      expect(test.statusCode).toBe(200);
      const delivered = sink.received.at(-1);
      expect(delivered?.headers['webhook-id']).toBeDefined();
      expect(delivered?.headers.authorization).toBeUndefined();
      expect(delivered?.headers['x-api-key']).toBeUndefined();
    } finally {
      await sink.close();
    }
  });
});
