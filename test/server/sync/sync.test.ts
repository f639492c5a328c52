import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountStatus,
  fakeAccount,
  followUp,
  messageReceived,
} from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { apiAuth, buildTestApp, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { postWebhook } from '../../support/webhooks.js';

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe.each(testDatabaseKinds())('catch-up sync on %s', (kind) => {
  let fake: FakeUnipile;
  const env: Record<string, string> = {
    UNIPILE_SYNC_INTERVAL_SECONDS: '0',
    UNIPILE_SYNC_PAGE_SIZE: '2',
    UNIPILE_RETRY_MIN_MS: '10',
    UNIPILE_RETRY_MAX_MS: '20',
  };
  beforeAll(async () => {
    fake = await startFakeUnipile();
    env.UNIPILE_DSN = fake.url;
    env.UNIPILE_API_KEY = fake.apiKey;
  });
  afterAll(() => fake.close());
  const t = useTestApp(kind, { env });

  /** A message the provider has but whose webhook never arrived. */
  function missed(
    account: ReturnType<typeof fakeAccount>,
    options: Parameters<typeof messageReceived>[0] = {},
  ) {
    const payload = messageReceived({ account, timestamp: minutesAgo(5), ...options });
    fake.history.record(payload);
    return payload;
  }

  async function sync(accountId: string) {
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/sync',
      headers: apiAuth,
      payload: { accountId },
    });
    expect(started.statusCode, started.body).toBe(202);
    await t.app.sync.engine?.idle();
    const { id } = started.json() as { id: string };
    const progress = await t.app.inject({ method: 'GET', url: `/api/sync/${id}`, headers: apiAuth });
    expect(progress.statusCode).toBe(200);
    return progress.json() as Record<string, unknown>;
  }

  it('ingests messages whose webhooks were missed, published with origin "sync"', async () => {
    const account = fakeAccount();
    const payloads = [1, 2, 3].map((minute) => missed(account, { timestamp: minutesAgo(minute) }));
    const run = await sync(account.id);
    expect(run).toMatchObject({ status: 'done', messages: 3, newMessages: 3, duplicates: 0, pages: 2 });
    for (const payload of payloads) {
      expect(await read.message(t.db.database, account.id, payload.message_id)).toMatchObject({
        text: payload.message,
        state: 'received',
      });
    }
    const events = await read.realtimeFor(t.db.database, account.id);
    expect(events.filter((event) => event.type === 'message:new')).toHaveLength(3);
    expect(events.every((event) => event.data.origin === 'sync')).toBe(true);
    const sender = (await read.message(t.db.database, account.id, payloads[0]!.message_id))?.sender;
    expect(sender).toMatchObject({ name: payloads[0]!.sender.attendee_name });
  });

  it('stores a message once when the webhook came first, and publishes nothing more', async () => {
    const account = fakeAccount();
    const payload = missed(account);
    expect((await postWebhook(t.app, payload)).json()).toEqual({ ok: true, duplicate: false });
    const run = await sync(account.id);
    expect(run).toMatchObject({ newMessages: 0, duplicates: 1 });
    expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(1);
  });

  it('answers the webhook arriving after the sync as a duplicate', async () => {
    const account = fakeAccount();
    const payload = missed(account);
    expect(await sync(account.id)).toMatchObject({ newMessages: 1 });
    expect((await postWebhook(t.app, payload)).json()).toEqual({ ok: true, duplicate: true });
    expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(1);
  });

  it('applies REST state of stored messages once, under later-wins', async () => {
    const account = fakeAccount();
    const payload = missed(account);
    expect((await postWebhook(t.app, payload)).json()).toMatchObject({ duplicate: false });
    fake.history.record(followUp('message_edited', payload, { message: 'edited text' }));
    fake.history.record(followUp('message_reaction', payload));
    expect(await sync(account.id)).toMatchObject({ duplicates: 1, updated: 1 });
    const stored = await read.message(t.db.database, account.id, payload.message_id);
    expect(stored).toMatchObject({ text: 'edited text' });
    expect(stored?.reactions).toEqual([expect.objectContaining({ reaction: '👍' })]);
    expect(await sync(account.id)).toMatchObject({ duplicates: 1, updated: 0 });
  });

  it('counts unread only for messages the provider says were not seen', async () => {
    const account = fakeAccount();
    const seen = missed(account, { chatId: 'chat_seen' });
    fake.history.message(seen.message_id)!.seen = 1;
    missed(account, { chatId: 'chat_seen', timestamp: minutesAgo(4) });
    expect(await sync(account.id)).toMatchObject({ newMessages: 2 });
    expect(await read.chat(t.db.database, account.id, 'chat_seen')).toMatchObject({ unread_count: 1 });
    // Seen history is stored as read, so the next sync (its window overlaps) finds nothing to apply.
    expect(await read.message(t.db.database, account.id, seen.message_id)).toMatchObject({
      read_at: expect.anything(),
    });
    const published = (await read.realtimeFor(t.db.database, account.id)).length;
    expect(await sync(account.id)).toMatchObject({ duplicates: 2, updated: 0 });
    expect(await read.realtimeFor(t.db.database, account.id)).toHaveLength(published);
    expect(await read.chat(t.db.database, account.id, 'chat_seen')).toMatchObject({ unread_count: 1 });
  });

  it('syncs an account whose status webhook says it is back (RECONNECTED), not one that failed', async () => {
    const account = fakeAccount();
    const payload = missed(account);
    expect((await postWebhook(t.app, accountStatus(account.id, 'CREDENTIALS'))).statusCode).toBe(200);
    await t.app.sync.engine?.idle();
    expect(await read.message(t.db.database, account.id, payload.message_id)).toBeUndefined();
    expect((await postWebhook(t.app, accountStatus(account.id, 'RECONNECTED'))).statusCode).toBe(200);
    await t.app.sync.engine?.idle();
    expect(await read.message(t.db.database, account.id, payload.message_id)).toMatchObject({
      state: 'received',
    });
  });

  it('backs off and retries when the provider throttles (429)', async () => {
    const account = fakeAccount();
    missed(account);
    fake.failNext(2, 429);
    expect(await sync(account.id)).toMatchObject({ status: 'done', newMessages: 1 });
  });

  it('rejects a body with unknown fields or a bad time, with a stable code', async () => {
    for (const payload of [{ accountId: 'a', extra: 1 }, { since: 'yesterday' }]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/sync', headers: apiAuth, payload });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/sync', payload: {} });
    expect(anonymous.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    const unknown = await t.app.inject({ method: 'GET', url: '/api/sync/nope', headers: apiAuth });
    expect(unknown.json().error.code).toBe('HL_ERR_NOT_FOUND');
  });

  it('syncs every connected account without a body and lists per-account lag', async () => {
    const account = fakeAccount();
    missed(account);
    const started = await t.app.inject({ method: 'POST', url: '/api/sync', headers: apiAuth });
    expect(started.statusCode).toBe(202);
    await t.app.sync.engine?.idle();
    const group = await t.app.inject({
      method: 'GET',
      url: `/api/sync/${started.json().id}`,
      headers: apiAuth,
    });
    expect(group.json()).toMatchObject({ status: 'done' });
    const list = (await t.app.inject({ method: 'GET', url: '/api/sync', headers: apiAuth })).json();
    expect(
      list.accounts.find((entry: { accountId: string }) => entry.accountId === account.id),
    ).toMatchObject({
      running: false,
      lagSeconds: expect.any(Number),
    });
  });

  it('answers the running sync id while a sync of the account is under way, on any instance', async () => {
    const account = fakeAccount();
    missed(account);
    fake.setLatency(300);
    const other = await buildTestApp(t.db.database, { env });
    try {
      const first = await t.app.inject({
        method: 'POST',
        url: '/api/sync',
        headers: apiAuth,
        payload: { accountId: account.id },
      });
      const second = await other.inject({
        method: 'POST',
        url: '/api/sync',
        headers: apiAuth,
        payload: { accountId: account.id },
      });
      expect(second.statusCode).toBe(202);
      expect(second.json().id).toBe(first.json().id);
      await t.app.sync.engine?.idle();
    } finally {
      fake.setLatency(0);
      await other.close();
    }
  });

  it('shows a refused API key in /readyz with a reason code, and stays ready', async () => {
    const app = await buildTestApp(t.db.database, { env: { ...env, UNIPILE_API_KEY: 'wrong-key' } });
    try {
      const account = fakeAccount();
      const started = await app.inject({
        method: 'POST',
        url: '/api/sync',
        headers: apiAuth,
        payload: { accountId: account.id },
      });
      await app.sync.engine?.idle();
      const run = await app.inject({
        method: 'GET',
        url: `/api/sync/${started.json().id}`,
        headers: apiAuth,
      });
      expect(run.json()).toMatchObject({ status: 'failed', error: { code: 'HL_ERR_PROVIDER' } });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.sync).toMatchObject({ ok: false, reason: 'provider_unauthorized' });
    } finally {
      await app.close();
    }
  });
});
