import { and, asc, eq, gt } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { realtimeEvents } from '../../../drizzle/schema.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { appendEvents, messageNew, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl, type TestClient } from '../../support/ws-client.js';

const RESUMING = 'acc-resume';
const OTHER = 'acc-noise';

describe.each(testDatabaseKinds())('resuming with since on %s', (kind) => {
  const t = useTestApp(kind);

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  async function seqsOf(accountId: string, after: number): Promise<number[]> {
    const rows = await t.app.database.db
      .select({ seq: realtimeEvents.seq })
      .from(realtimeEvents)
      .where(and(eq(realtimeEvents.accountId, accountId), gt(realtimeEvents.seq, after)))
      .orderBy(asc(realtimeEvents.seq));
    return rows.map((row) => row.seq);
  }

  it('replays then streams live with no gap and no duplicate while 1,000 events are appended', async () => {
    let n = 0;
    const batch = () => [
      messageNew(RESUMING, n++),
      messageNew(OTHER, n++),
      messageNew(RESUMING, n++),
      messageNew(OTHER, n++),
    ];
    for (let i = 0; i < 10; i++) await appendEvents(t.app, batch());
    const token = await mintToken(t.app, [RESUMING]);

    // 250 transactions of 4 events, 8 in flight at a time; clients resume at several points meanwhile.
    let started = 0;
    const clients: { client: TestClient; since: number }[] = [];
    const producer = async () => {
      while (started < 250) {
        started++;
        await appendEvents(t.app, batch());
      }
    };
    const producing = Promise.all(Array.from({ length: 8 }, producer));
    for (const point of [20, 80, 160]) {
      await waitFor(() => started >= point, `${point} transactions started`);
      const [latest] = await t.app.database.db
        .select({ seq: realtimeEvents.seq })
        .from(realtimeEvents)
        .orderBy(asc(realtimeEvents.seq))
        .limit(1)
        .offset(point);
      const since = latest?.seq ?? 0;
      clients.push({ client: await connectClient(messagesUrl(t.app, { token, since })), since });
    }
    await producing;
    const sentinel = await appendEvents(t.app, [messageNew(RESUMING, n++, 'sentinel')]);

    for (const { client, since } of clients) {
      await waitFor(() => client.events().some((event) => event.seq === sentinel), 'the sentinel');
      const expected = await seqsOf(RESUMING, since);
      expect(expected.length).toBeGreaterThan(100);
      expect(client.events().map((event) => event.seq)).toEqual(expected);
      expect(client.frames[0]).toMatchObject({ type: 'hello' });
      expect(client.frames[0]?.reset).toBeUndefined();
      await client.close();
    }
  });

  it('replays exactly the events after since and then goes live', async () => {
    const first = await appendEvents(t.app, [messageNew(RESUMING, 1000)]);
    await appendEvents(t.app, [messageNew(OTHER, 1001), messageNew(RESUMING, 1002)]);
    const token = await mintToken(t.app, [RESUMING]);
    const client = await connectClient(messagesUrl(t.app, { token, since: first - 1 }));
    const replayed = await client.waitForEvents(2);
    expect(replayed.map((event) => event.data?.messageId)).toEqual([
      `msg-${RESUMING}-1000`,
      `msg-${RESUMING}-1002`,
    ]);
    const live = await appendEvents(t.app, [messageNew(RESUMING, 1003)]);
    await waitFor(() => client.events().at(-1)?.seq === live, 'the live event');
    expect(client.events()).toHaveLength(3);
    await client.close();
  });

  it('answers a since beyond any issued seq with hello reset, then streams live', async () => {
    const token = await mintToken(t.app, [RESUMING]);
    const client = await connectClient(messagesUrl(t.app, { token, since: 999_999_999 }));
    expect(client.frames[0]).toMatchObject({ type: 'hello', reset: true });
    const live = await appendEvents(t.app, [messageNew(RESUMING, 2000)]);
    await waitFor(() => client.events().some((event) => event.seq === live), 'the live event after reset');
    await client.close();
  });
});
