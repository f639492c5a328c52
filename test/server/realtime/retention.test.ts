import { count } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { realtimeEvents } from '../../../drizzle/schema.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { appendEvents, messageNew, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, messagesUrl } from '../../support/ws-client.js';

describe.each(testDatabaseKinds())('realtime retention on %s', (kind) => {
  describe('background pruning by count', () => {
    const t = useTestApp(kind, { env: { REALTIME_RETENTION_COUNT: '10', REALTIME_PRUNE_INTERVAL_MS: '50' } });

    beforeAll(async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
    });

    const rowCount = async () => {
      const [row] = await t.app.database.db.select({ n: count() }).from(realtimeEvents);
      return row?.n ?? 0;
    };

    it('keeps the newest events, and answers a since before them with hello reset', async () => {
      let last = 0;
      for (let n = 0; n < 30; n++) last = await appendEvents(t.app, [messageNew('acc-r', n)]);
      await waitFor(async () => (await rowCount()) === 10, 'pruned down to 10 events');

      const token = await mintToken(t.app, ['acc-r']);
      const stale = await connectClient(messagesUrl(t.app, { token, since: last - 20 }));
      expect(stale.frames[0]).toMatchObject({ type: 'hello', reset: true });
      expect(stale.events()).toEqual([]);

      const recent = await connectClient(messagesUrl(t.app, { token, since: last - 5 }));
      const replayed = await recent.waitForEvents(5);
      expect(recent.frames[0]?.reset).toBeUndefined();
      expect(replayed.map((event) => event.seq)).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
      await Promise.all([stale.close(), recent.close()]);
    });
  });
});
