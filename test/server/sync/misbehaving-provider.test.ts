import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { UnipileRestClient } from '../../../server/providers/unipile/rest-messages.js';
import { ChatFiller, type ChatFillResult } from '../../../server/sync/chat-fill.js';
import type { SyncEngineOptions } from '../../../server/sync/engine.js';
import { findSyncAccount, findSyncRun } from '../../../server/sync/queries/sync.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { useSyncHarness } from './support.js';

describe.each(testDatabaseKinds())('sync against a misbehaving provider on %s', (kind) => {
  const db = useTestDatabase(kind);
  let tooLarge = 0;
  const harness = useSyncHarness(db, {
    timeoutMs: 2000,
    maxResponseBytes: 1024 * 1024,
    onResponseTooLarge: () => tooLarge++,
  });
  afterEach(() => harness.fake.misbehave.reset());
  const engine = harness.engine;
  const calls = (path: string) =>
    harness.fake.state.requests.filter((request) => request.path.endsWith(path)).length;

  /** Runs one account's sync to its end and returns the run. */
  async function syncOnce(accountId: string, options: Partial<SyncEngineOptions> = {}) {
    const sync = engine(options);
    const { id } = await sync.start(accountId, { trigger: 'api' });
    await sync.idle();
    return findSyncRun(db.current.database.db, id);
  }

  it('ends a run whose cursors cycle (a → b → a) as failed, reason cursor_cycle, its lease let go', async () => {
    const account = fakeAccount();
    harness.fake.misbehave.set({ cycle: ['messages'] });
    const before = calls('/messages');
    const run = await syncOnce(account.id);
    expect(run).toMatchObject({ status: 'failed', error: { details: { reason: 'cursor_cycle' } } });
    expect(calls('/messages') - before).toBe(3);
    expect(await findSyncAccount(db.current.database.db, account.id)).toMatchObject({
      watermark: null,
      leaseOwner: null,
    });
  });

  it('ends a run past UNIPILE_SYNC_MAX_PAGES as failed, reason too_many_pages', async () => {
    const account = fakeAccount();
    for (let index = 0; index < 10; index++) {
      harness.fake.history.record(
        messageReceived({ account, timestamp: new Date(Date.now() - (index + 1) * 60_000) }),
      );
    }
    const run = await syncOnce(account.id, { maxPages: 2 });
    expect(run).toMatchObject({
      status: 'failed',
      pages: 2,
      error: { details: { reason: 'too_many_pages' } },
    });
  });

  it('lists accounts once each, however often the provider repeats them, and ends a cycling listing', async () => {
    const account = fakeAccount();
    harness.fake.history.record(messageReceived({ account, timestamp: new Date(Date.now() - 60_000) }));
    harness.fake.misbehave.set({ repeatAccounts: 50 });
    const listed = await harness.client.listAccounts();
    expect(listed.map((item) => item.id).sort()).toEqual([...new Set(listed.map((item) => item.id))].sort());
    expect(listed.filter((item) => item.id === account.id)).toHaveLength(1);

    harness.fake.misbehave.set({ repeatAccounts: 0, cycle: ['accounts'] });
    await expect(engine().startAll({ trigger: 'api' })).rejects.toMatchObject({
      details: { reason: 'cursor_cycle' },
    });
  });

  it('bounds the attendee fill: a cycling attendee listing ends, and chats per minute are capped', async () => {
    const account = fakeAccount();
    const chats = Array.from({ length: 5 }, () => messageReceived({ account }));
    for (const payload of chats) harness.fake.history.record(payload);
    harness.fake.misbehave.set({ cycle: ['attendees'] });
    const before = calls('/attendees');
    await expect(harness.client.listChatAttendees(chats[0]!.chat_id)).rejects.toMatchObject({
      details: { reason: 'cursor_cycle' },
    });
    expect(calls('/attendees') - before).toBe(3);
    // A sync page naming that chat is stored all the same, its sender unnamed.
    const run = await syncOnce(account.id);
    expect(run).toMatchObject({ status: 'done', newMessages: 5 });

    const results: ChatFillResult[] = [];
    const filler = new ChatFiller({
      client: harness.client,
      database: db.current.database,
      logger: pino({ level: 'silent' }),
      maxPerMinute: 2,
      onFill: (result) => results.push(result),
    });
    for (const payload of chats) filler.request(account.id, payload.chat_id);
    await filler.idle();
    expect(results.filter((result) => result === 'deferred')).toHaveLength(3);
    expect(results.filter((result) => result !== 'deferred')).toHaveLength(2);
    await filler.stop();
  });

  it('abandons an answer past UNIPILE_MAX_RESPONSE_BYTES while it streams: counted, not retried, run failed', async () => {
    const account = fakeAccount();
    harness.fake.misbehave.set({ hugeBytes: 64 * 1024 * 1024 });
    const counted = tooLarge;
    const run = await syncOnce(account.id);
    expect(run).toMatchObject({ status: 'failed', error: { details: { reason: 'response_too_large' } } });
    expect(tooLarge - counted).toBe(1);
    // Abandoned where it crossed the cap: the fake never wrote the whole 64 MiB.
    expect(harness.fake.misbehave.bytesServed).toBeLessThan(32 * 1024 * 1024);
  });

  it('ends a run whose answer trickles forever (the call timeout), as failed', async () => {
    const account = fakeAccount();
    const slow = new UnipileRestClient({
      dsn: harness.fake.url,
      apiKey: harness.fake.apiKey,
      timeoutMs: 200,
      maxAttempts: 2,
      retryMinMs: 5,
      retryMaxMs: 10,
    });
    harness.fake.misbehave.set({ trickleMs: 20 });
    try {
      const run = await syncOnce(account.id, { client: slow });
      expect(run).toMatchObject({ status: 'failed' });
    } finally {
      await slow.close();
    }
  });

  it('stores a page holding poisoned items: cleaned where it can, the rest kept as rejected bodies', async () => {
    const account = fakeAccount();
    const chat = messageReceived({ account, timestamp: new Date(Date.now() - 3_600_000) });
    harness.fake.history.record(chat);
    const ids = harness.fake.misbehave.poison(
      harness.fake.history,
      account.id,
      chat.chat_id,
      new Date(Date.now() - 60_000),
    );
    // The default cap (16 MiB): the page itself, with its 1 MiB text, is read.
    const roomy = new UnipileRestClient({ dsn: harness.fake.url, apiKey: harness.fake.apiKey });
    const run = await syncOnce(account.id, { pageSize: 100, client: roomy }).finally(() => roomy.close());
    expect(run).toMatchObject({ status: 'done', newMessages: 5, skipped: 1 });
    for (const id of [...ids.valid, ...ids.cleaned]) {
      expect(await read.message(db.current.database, account.id, id)).toBeDefined();
    }
    expect(await read.message(db.current.database, account.id, ids.cleaned[0]!)).toMatchObject({
      text: 'a\uFFFDb',
    });
    expect(await read.message(db.current.database, account.id, ids.cleaned[1]!)).toMatchObject({
      text: 'cut \uFFFD',
    });
    expect(await read.message(db.current.database, account.id, ids.tooLarge)).toBeUndefined();
    const [kept] = await queryRows<{ n: string }>(
      db.current.database.db,
      sql`select count(*) as n from inbound_events
        where account_id = ${account.id} and status = 'rejected' and error->>'code' = 'HL_ERR_INVALID_PAYLOAD'`,
    );
    expect(Number(kept?.n)).toBe(1);
    expect((await findSyncAccount(db.current.database.db, account.id))?.watermark).not.toBeNull();
  });
});
