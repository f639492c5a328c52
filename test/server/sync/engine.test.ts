import { describe, expect, it } from 'vitest';
import { findSyncAccount, findSyncRun } from '../../../server/sync/queries/sync.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { useSyncHarness } from './support.js';

describe.each(testDatabaseKinds())('sync engine on %s', (kind) => {
  const db = useTestDatabase(kind);
  const harness = useSyncHarness(db);
  const engine = harness.engine;

  it('resumes an interrupted run from its last committed page: nothing lost, nothing twice', async () => {
    const account = fakeAccount();
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) {
      const payload = messageReceived({ account, timestamp: new Date(Date.now() - (index + 1) * 60_000) });
      harness.fake.history.record(payload);
      ids.push(payload.message_id);
    }
    // The first instance stops after its first page, as a crash or a shutdown would.
    const first = engine({
      onPage: () => {
        void first.stop();
      },
    });
    const { id } = await first.start(account.id, { trigger: 'api' });
    await first.idle();
    const interrupted = await findSyncRun(db.current.database.db, id);
    expect(interrupted).toMatchObject({ status: 'running', pages: 1, newMessages: 3 });
    expect(interrupted?.cursor).toEqual(expect.any(String));
    expect(await findSyncAccount(db.current.database.db, account.id)).toMatchObject({ watermark: null });

    const second = engine();
    const resumed = await second.start(account.id, { trigger: 'startup' });
    expect(resumed).toEqual({ id, started: true });
    await second.idle();
    const finished = await findSyncRun(db.current.database.db, id);
    expect(finished).toMatchObject({ status: 'done', messages: 10, newMessages: 10, duplicates: 0 });
    const account2 = await findSyncAccount(db.current.database.db, account.id);
    expect(account2?.watermark?.getTime()).toBe(finished?.windowTo.getTime());
    for (const messageId of ids) {
      expect(await read.message(db.current.database, account.id, messageId)).toBeDefined();
    }
    const events = await read.realtimeFor(db.current.database, account.id);
    expect(events.filter((event) => event.type === 'message:new')).toHaveLength(10);
  });

  it('lets one instance at a time sync an account (lease), and the next start from the watermark', async () => {
    const account = fakeAccount();
    harness.fake.history.record(messageReceived({ account, timestamp: new Date(Date.now() - 60_000) }));
    harness.fake.setLatency(200);
    const a = engine();
    const b = engine();
    try {
      const started = await a.start(account.id, { trigger: 'api' });
      expect(started.started).toBe(true);
      expect(await b.start(account.id, { trigger: 'api' })).toEqual({ id: started.id, started: false });
      await a.idle();
    } finally {
      harness.fake.setLatency(0);
    }
    const next = await b.start(account.id, { trigger: 'interval' });
    expect(next.started).toBe(true);
    await b.idle();
    const watermark = (await findSyncAccount(db.current.database.db, account.id))?.watermark;
    const run = await findSyncRun(db.current.database.db, next.id);
    // The second window starts the overlap (10 min by default) before the first one's end.
    expect(run!.windowFrom.getTime()).toBeLessThan(watermark!.getTime());
    expect(run).toMatchObject({ status: 'done', newMessages: 0, duplicates: 1 });
  });

  it('does not move the watermark over a gap: a run starting after it leaves it alone', async () => {
    const account = fakeAccount();
    const a = engine();
    await a.start(account.id, { trigger: 'api' });
    await a.idle();
    const before = (await findSyncAccount(db.current.database.db, account.id))?.watermark;
    const later = await a.start(account.id, { trigger: 'api', since: new Date(Date.now() + 60_000) });
    await a.idle();
    expect((await findSyncRun(db.current.database.db, later.id))?.status).toBe('done');
    expect((await findSyncAccount(db.current.database.db, account.id))?.watermark).toEqual(before);
  });
  it('answers an explicit since over an interrupted run with a new window from the earlier start', async () => {
    const account = fakeAccount();
    const old = messageReceived({ account, timestamp: new Date(Date.now() - 3 * 3_600_000) });
    harness.fake.history.record(old);
    for (let index = 0; index < 6; index++) {
      harness.fake.history.record(
        messageReceived({ account, timestamp: new Date(Date.now() - (index + 1) * 60_000) }),
      );
    }
    const first = engine({
      onPage: () => {
        void first.stop();
      },
    });
    const interrupted = await first.start(account.id, { trigger: 'api' });
    await first.idle();
    const windowFrom = (await findSyncRun(db.current.database.db, interrupted.id))!.windowFrom;

    // A since after the interrupted window's start: the new window still covers what it had left.
    const second = engine();
    const started = await second.start(account.id, {
      trigger: 'api',
      since: new Date(Date.now() - 3_600_000),
    });
    expect(started.started).toBe(true);
    expect(started.id).not.toBe(interrupted.id);
    await second.idle();
    expect(await findSyncRun(db.current.database.db, interrupted.id)).toMatchObject({
      status: 'failed',
      error: { code: 'HL_ERR_CONFLICT', details: { reason: 'superseded_by_since' } },
    });
    expect(await findSyncRun(db.current.database.db, started.id)).toMatchObject({
      status: 'done',
      windowFrom,
      newMessages: 4,
      duplicates: 3,
    });
    expect(await read.message(db.current.database, account.id, old.message_id)).toBeDefined();
  });

  it('starts an explicit since earlier than the interrupted window there', async () => {
    const account = fakeAccount();
    for (let index = 0; index < 6; index++) {
      harness.fake.history.record(
        messageReceived({ account, timestamp: new Date(Date.now() - (index + 1) * 60_000) }),
      );
    }
    const first = engine({
      onPage: () => {
        void first.stop();
      },
    });
    const interrupted = await first.start(account.id, { trigger: 'api' });
    await first.idle();
    const since = new Date(Date.now() - 48 * 3_600_000);
    const second = engine();
    const started = await second.start(account.id, { trigger: 'api', since });
    await second.idle();
    expect((await findSyncRun(db.current.database.db, interrupted.id))?.status).toBe('failed');
    expect(await findSyncRun(db.current.database.db, started.id)).toMatchObject({
      status: 'done',
      windowFrom: since,
      newMessages: 3,
    });
  });
});
