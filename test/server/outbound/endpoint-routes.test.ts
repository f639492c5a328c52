import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { endpoints } from '../../../drizzle/schema.js';
import { apiAuth, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint } from '../../support/outbound.js';

const valid = {
  url: 'https://hooks.example.com/hookline',
  description: 'CRM sync',
  eventTypes: ['message.received', 'chat.read'],
  accountIds: ['acc_1'],
  headers: { 'X-Team': 'crm' },
  maxAttempts: 5,
  rateLimitPerSecond: 20,
};

describe.each(testDatabaseKinds())('endpoints API on %s', (kind) => {
  const t = useTestApp(kind);
  const post = (payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/api/endpoints', headers: apiAuth, payload: payload as object });

  it('creates an endpoint (201) and shows its whsec_ secret this once only', async () => {
    const response = await post(valid);
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      ...valid,
      headers: { 'X-Team': '********' },
      enabled: true,
      disabledReason: null,
      failingSince: null,
    });
    expect(created.id).toMatch(/^ep_/);
    expect(created.secret).toMatch(/^whsec_/);

    const got = await t.app.inject({ method: 'GET', url: `/api/endpoints/${created.id}`, headers: apiAuth });
    expect(got.statusCode).toBe(200);
    expect(got.json()).not.toHaveProperty('secret');
    expect(got.body).not.toContain(created.secret.slice(6));
    const listed = await t.app.inject({ method: 'GET', url: '/api/endpoints?limit=200', headers: apiAuth });
    expect(listed.body).not.toContain(created.secret.slice(6));

    const [row] = await t.db.database.db.select().from(endpoints).where(eq(endpoints.id, created.id));
    expect(row?.secretEncrypted).toMatch(/^v1\./);
    expect(row?.secretEncrypted).not.toContain(created.secret.slice(6));
  });

  it('defaults to every event type and account, the configured attempt budget, no rate limit', async () => {
    const response = await post({ url: 'http://hooks.example.com/minimal' });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      eventTypes: null,
      accountIds: null,
      headers: {},
      maxAttempts: 8,
      rateLimitPerSecond: null,
      description: null,
    });
  });

  it.each([
    ['no url', { url: undefined }],
    ['a non-http url', { url: 'ftp://hooks.example.com/x' }],
    ['a relative url', { url: '/hook' }],
    [
      'a url with CR LF (URL parsing would drop them silently)',
      { url: 'https://hooks.example.com/\r\nHost: evil' },
    ],
    ['a url with a space', { url: 'https://hooks.example.com/a b' }],
    ['an unknown event type', { eventTypes: ['message.exploded'] }],
    ['an empty event type list', { eventTypes: [] }],
    ['zero attempts', { maxAttempts: 0 }],
    ['a fractional rate limit', { rateLimitPerSecond: 1.5 }],
    ['an unknown field', { colour: 'blue' }],
    ['a CRLF header value', { headers: { 'X-A': 'a\r\nX-Injected: yes' } }],
    ['a LF header value', { headers: { 'X-A': 'a\nb' } }],
    ['a header name with a space', { headers: { 'X A': 'a' } }],
    ['a header name with a colon', { headers: { 'X-A:': 'a' } }],
    ['a webhook-* header', { headers: { 'Webhook-Signature': 'v1,forged' } }],
    ['a content-type header', { headers: { 'content-type': 'text/plain' } }],
    ['a host header', { headers: { Host: 'evil.example.com' } }],
    ['a transfer-encoding header', { headers: { 'Transfer-Encoding': 'chunked' } }],
    ['names differing only by case', { headers: { 'X-A': '1', 'x-a': '2' } }],
  ])('refuses %s with 400 HL_ERR_INVALID_REQUEST', async (_name, change) => {
    const response = await post({ ...valid, ...change });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('requires the API token', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/endpoints', payload: valid });
    expect(response.statusCode).toBe(401);
    const list = await t.app.inject({ method: 'GET', url: '/api/event-types' });
    expect(list.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
  });

  it('lists endpoints with a cursor, oldest first, each exactly once', async () => {
    const ids = new Set<string>();
    for (let index = 0; index < 3; index++)
      ids.add((await createEndpoint(t.app, { url: `https://p${index}.example.com/` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/endpoints?limit=2${query}`,
        headers: apiAuth,
      });
      expect(response.statusCode).toBe(200);
      const page = response.json() as { data: Array<{ id: string }>; nextCursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((entry) => entry.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
    for (const id of ids) expect(seen).toContain(id);
  });

  it('updates, re-enables and deletes; unknown ids answer 404 HL_ERR_NOT_FOUND', async () => {
    const { id } = await createEndpoint(t.app, valid);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/endpoints/${id}`,
      headers: apiAuth,
      payload: { description: 'renamed', enabled: false, eventTypes: null },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      description: 'renamed',
      enabled: false,
      eventTypes: null,
      url: valid.url,
    });
    const bad = await t.app.inject({
      method: 'PATCH',
      url: `/api/endpoints/${id}`,
      headers: apiAuth,
      payload: { headers: { 'webhook-id': 'x' } },
    });
    expect(bad.statusCode).toBe(400);

    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/endpoints/${id}`, headers: apiAuth });
    expect(deleted.statusCode).toBe(204);
    for (const request of [
      { method: 'GET' as const, url: `/api/endpoints/${id}` },
      { method: 'DELETE' as const, url: `/api/endpoints/${id}` },
      { method: 'PATCH' as const, url: `/api/endpoints/${id}`, payload: { description: 'x' } },
      { method: 'POST' as const, url: `/api/endpoints/${id}/rotate-secret` },
      { method: 'POST' as const, url: `/api/endpoints/${id}/test` },
      { method: 'GET' as const, url: `/api/endpoints/${id}/deliveries` },
      { method: 'GET' as const, url: `/api/endpoints/${id}/stats` },
      {
        method: 'POST' as const,
        url: `/api/endpoints/${id}/recover`,
        payload: { since: new Date().toISOString() },
      },
      { method: 'POST' as const, url: '/api/deliveries/999999999/retry' },
    ]) {
      const response = await t.app.inject({ ...request, headers: apiAuth });
      expect(response.statusCode, request.url).toBe(404);
      expect(response.json().error.code).toBe('HL_ERR_NOT_FOUND');
    }
  });

  it('rotates the secret: a new one shown once, the previous one signing until the overlap ends', async () => {
    const { id, secret } = await createEndpoint(t.app, valid);
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/endpoints/${id}/rotate-secret`,
      headers: apiAuth,
    });
    expect(response.statusCode).toBe(200);
    const rotated = response.json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    const overlapEnd = Date.parse(rotated.previousSecretExpiresAt);
    expect(overlapEnd - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const got = await t.app.inject({ method: 'GET', url: `/api/endpoints/${id}`, headers: apiAuth });
    expect(got.body).not.toContain(rotated.secret.slice(6));
    expect(got.body).not.toContain(secret.slice(6));
  });

  it('serves the event catalog with a schema and an example per type', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/event-types', headers: apiAuth });
    expect(response.statusCode).toBe(200);
    const catalog = response.json().data as Array<{
      type: string;
      schema: { properties: { type: { const: string } } };
      example: { type: string };
    }>;
    expect(catalog.map((entry) => entry.type)).toEqual([
      'message.received',
      'message.updated',
      'message.deleted',
      'message.sent',
      'chat.read',
      'account.status',
      'endpoint.test',
      'endpoint.disabled',
      'delivery.exhausted',
    ]);
    for (const entry of catalog) {
      expect(entry.schema.properties.type.const).toBe(entry.type);
      expect(entry.example.type).toBe(entry.type);
    }
  });

  it('answers 400 for bad pagination and filters', async () => {
    const { id } = await createEndpoint(t.app, valid);
    for (const url of [
      '/api/endpoints?limit=0',
      '/api/endpoints?limit=abc',
      `/api/endpoints/${id}/deliveries?status=lost`,
      `/api/endpoints/${id}/deliveries?cursor=-1`,
      `/api/endpoints/${id}/stats?since=yesterday`,
      '/api/deliveries/abc/retry',
    ]) {
      const response = await t.app.inject({
        method: url.endsWith('retry') ? 'POST' : 'GET',
        url,
        headers: apiAuth,
      });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
    const recover = await t.app.inject({
      method: 'POST',
      url: `/api/endpoints/${id}/recover`,
      headers: apiAuth,
      payload: {},
    });
    expect(recover.statusCode).toBe(400);
  });
});

describe.each(testDatabaseKinds())('endpoint cap on %s', (kind) => {
  const t = useTestApp(kind, { env: { OUTBOUND_MAX_ENDPOINTS: '3' } });

  it('admits exactly the cap when 12 creations race, refusing the rest with 409 HL_ERR_LIMIT_REACHED', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        t.app.inject({
          method: 'POST',
          url: '/api/endpoints',
          headers: apiAuth,
          payload: { url: `https://r${index}.example.com/` },
        }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    const refused = responses.filter((response) => response.statusCode === 409);
    expect(refused).toHaveLength(9);
    for (const response of refused) expect(response.json().error.code).toBe('HL_ERR_LIMIT_REACHED');
    const rows = await t.db.database.db.select().from(endpoints);
    expect(rows).toHaveLength(3);
  });
});

describe.each(testDatabaseKinds())('SSRF guard at creation on %s', (kind) => {
  const t = useTestApp(kind, { env: { ALLOW_PRIVATE_ENDPOINTS: 'false' } });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://10.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/hook',
    'http://localhost:8080/hook',
    'http://[::ffff:127.0.0.1]/hook',
  ])('refuses %s with 403 HL_ERR_FORBIDDEN', async (url) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/endpoints',
      headers: apiAuth,
      payload: { url },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('HL_ERR_FORBIDDEN');
  });

  it('refuses an update that points an endpoint at a private address', async () => {
    const { id } = await createEndpoint(t.app, { url: 'https://93.184.216.34/hook' });
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/endpoints/${id}`,
      headers: apiAuth,
      payload: { url: 'http://192.168.0.10/hook' },
    });
    expect(response.json().error.code).toBe('HL_ERR_FORBIDDEN');
  });
});
