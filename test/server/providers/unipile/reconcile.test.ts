import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnipileClient } from '../../../../server/providers/unipile/client.js';
import {
  deleteIfPresent,
  desiredWebhooks,
  reconcileWebhooks,
  webhookFingerprint,
  webhookName,
} from '../../../../server/providers/unipile/reconcile.js';
import { type FakeUnipile, startFakeUnipile } from '../../../../tools/fake-unipile/server.js';

const API_KEY = 'reconcile-test-api-key-0123456789';
const SECRET = 'reconcile-inbound-secret-0123456789';
const FINGERPRINT = webhookFingerprint(SECRET);
const wanted = (baseUrl: string, inboundSecret = SECRET) =>
  desiredWebhooks({ baseUrl, inboundSecret, instance: 'test' });

describe('reconcileWebhooks against the fake provider', () => {
  let fake: FakeUnipile;
  let client: UnipileClient;

  beforeEach(async () => {
    fake = await startFakeUnipile({ apiKey: API_KEY, pageSize: 2 });
    client = new UnipileClient({ dsn: fake.url, apiKey: API_KEY, timeoutMs: 2000 });
  });

  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  it('creates one webhook per source with the JSON content type and the Unipile-Auth header', async () => {
    const results = await reconcileWebhooks(client, wanted('https://a.example'));
    expect(results.map((result) => [result.source, result.action])).toEqual([
      ['messaging', 'created'],
      ['account_status', 'created'],
    ]);
    expect(fake.state.webhooks).toEqual([
      expect.objectContaining({
        name: `hookline:test:${FINGERPRINT}:messaging`,
        source: 'messaging',
        format: 'json',
        request_url: 'https://a.example/api/webhooks/unipile/messages',
        headers: [
          { key: 'Content-Type', value: 'application/json' },
          { key: 'Unipile-Auth', value: SECRET },
        ],
      }),
      expect.objectContaining({
        name: `hookline:test:${FINGERPRINT}:account_status`,
        source: 'account_status',
      }),
    ]);
  });

  it('reuses matching webhooks: a second run creates and deletes nothing', async () => {
    await reconcileWebhooks(client, wanted('https://a.example'));
    const operations = fake.state.operations.length;
    const results = await reconcileWebhooks(client, wanted('https://a.example'));
    expect(results.map((result) => result.action)).toEqual(['reused', 'reused']);
    expect(fake.state.operations).toHaveLength(operations);
  });

  it('replaces a stale URL by creating the new webhook before deleting the old one', async () => {
    const first = await reconcileWebhooks(client, wanted('https://old-tunnel.example'));
    const results = await reconcileWebhooks(client, wanted('https://new-tunnel.example'));
    expect(results.map((result) => result.action)).toEqual(['replaced', 'replaced']);
    for (const [index, result] of results.entries()) {
      const oldId = first[index]!.webhookId;
      expect(result.deleted).toEqual([oldId]);
      const created = fake.state.operations.find((op) => op.op === 'create' && op.id === result.webhookId)!;
      const deleted = fake.state.operations.find((op) => op.op === 'delete' && op.id === oldId)!;
      expect(created.seq).toBeLessThan(deleted.seq);
    }
    expect(fake.state.webhooks.map((webhook) => webhook.request_url)).toEqual([
      'https://new-tunnel.example/api/webhooks/unipile/messages',
      'https://new-tunnel.example/api/webhooks/unipile/messages',
    ]);
  });

  it('names ours with a short fingerprint of the secret, never the secret', () => {
    expect(FINGERPRINT).toMatch(/^[0-9a-f]{12}$/);
    expect(webhookFingerprint('another-secret-0123456789')).not.toBe(FINGERPRINT);
    for (const desired of wanted('https://a.example')) expect(desired.name).not.toContain(SECRET);
  });

  it('replaces ours once when the inbound secret changed (another fingerprint)', async () => {
    await reconcileWebhooks(client, wanted('https://a.example', 'old-secret-0123456789abcdef'));
    const results = await reconcileWebhooks(client, wanted('https://a.example'));
    expect(results.map((result) => result.action)).toEqual(['replaced', 'replaced']);
    expect(results.flatMap((result) => Object.values(result.reasons))).toEqual([
      'rotated_secret',
      'rotated_secret',
    ]);
    for (const webhook of fake.state.webhooks) {
      expect(webhook.headers).toContainEqual({ key: 'Unipile-Auth', value: SECRET });
    }
    const operations = fake.state.operations.length;
    expect((await reconcileWebhooks(client, wanted('https://a.example'))).map((r) => r.action)).toEqual([
      'reused',
      'reused',
    ]);
    expect(fake.state.operations).toHaveLength(operations);
  });

  it('replaces webhooks under the name before fingerprints once', async () => {
    const desired = wanted('https://a.example');
    const legacy = desired.map((webhook) =>
      fake.addWebhook({
        name: `hookline:test:${webhook.source}`,
        source: webhook.source,
        request_url: webhook.requestUrl,
        headers: webhook.headers,
      }),
    );
    const results = await reconcileWebhooks(client, desired);
    expect(results.map((result) => [result.action, result.deleted, result.reasons])).toEqual(
      legacy.map((webhook) => ['replaced', [webhook.id], { [webhook.id]: 'legacy_name' }]),
    );
    expect(fake.state.webhooks.map((webhook) => webhook.name)).toEqual(
      desired.map((webhook) => webhook.name),
    );
    expect((await reconcileWebhooks(client, desired)).map((result) => result.action)).toEqual([
      'reused',
      'reused',
    ]);
  });

  it('recreates ours found disabled', async () => {
    const first = await reconcileWebhooks(client, wanted('https://a.example'));
    expect(fake.disableWebhook(first[0]!.webhookId)).toBe(true);
    const results = await reconcileWebhooks(client, wanted('https://a.example'));
    expect(results[0]).toMatchObject({
      action: 'replaced',
      deleted: [first[0]!.webhookId],
      reasons: { [first[0]!.webhookId]: 'disabled' },
    });
    expect(results[1]).toMatchObject({ action: 'reused', webhookId: first[1]!.webhookId });
    expect(fake.state.webhooks.every((webhook) => webhook.enabled)).toBe(true);
  });

  it('never reads header values: the listing shows keys only', async () => {
    await reconcileWebhooks(client, wanted('https://a.example'));
    const listed = await client.listWebhooks();
    expect(listed[0]).toMatchObject({ headers: [{ key: 'Content-Type' }, { key: 'Unipile-Auth' }] });
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    expect((await reconcileWebhooks(client, wanted('https://a.example'))).map((r) => r.action)).toEqual([
      'reused',
      'reused',
    ]);
  });

  it('finds ours on the third page and deletes extra copies of ours', async () => {
    const desired = wanted('https://a.example');
    for (const name of ['x1', 'x2', 'x3', 'x4']) fake.addWebhook({ name, request_url: 'https://x.example' });
    const copies = [1, 2].map(() =>
      fake.addWebhook({
        name: desired[0]!.name,
        source: 'messaging',
        request_url: desired[0]!.requestUrl,
        headers: desired[0]!.headers,
      }),
    );
    const results = await reconcileWebhooks(client, desired);
    expect(results[0]).toMatchObject({
      action: 'reused',
      webhookId: copies[0]!.id,
      deleted: [copies[1]!.id],
    });
    expect(fake.state.requests.filter((request) => request.method === 'GET')).toHaveLength(3);
  });

  it('never touches webhooks that are not ours, even with our URL or another instance name', async () => {
    const desired = wanted('https://a.example');
    const foreign = [
      fake.addWebhook({ name: 'zapier', request_url: desired[0]!.requestUrl }),
      fake.addWebhook({
        name: webhookName('production', 'messaging', FINGERPRINT),
        request_url: 'https://prod.example',
      }),
      fake.addWebhook({ name: 'hookline:production:messaging', request_url: 'https://prod.example' }),
      fake.addWebhook({ name: 'hookline:test:not-a-print:messaging', request_url: desired[0]!.requestUrl }),
      fake.addWebhook({ name: '', request_url: 'https://old-tunnel.example/api/webhooks/unipile/messages' }),
    ];
    const snapshot = structuredClone(foreign);
    await reconcileWebhooks(client, wanted('https://old.example'));
    await reconcileWebhooks(client, desired);
    for (const webhook of snapshot) {
      expect(fake.state.webhooks).toContainEqual(webhook);
      expect(fake.state.operations.map((op) => op.id)).not.toContain(webhook.id);
    }
  });

  it('deleteIfPresent treats an already deleted webhook as done', async () => {
    await expect(deleteIfPresent(client, 'wh_gone')).resolves.toBeUndefined();
  });
});
