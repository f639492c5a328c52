import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { realtimeEvents } from '../../../../drizzle/schema.js';
import { pruneRealtimeEventsBatch } from '../../../../server/realtime/queries/realtime-reads.js';
import { testDatabaseKinds, useTestDatabase } from '../../../support/databases.js';

describe.each(testDatabaseKinds())('realtime reads on %s', (kind) => {
  describe('pruneRealtimeEventsBatch', () => {
    const db = useTestDatabase(kind);

    it('deletes events older than the age limit and keeps one contiguous window', async () => {
      const { db: drizzle } = db.current.database;
      const rows = await drizzle
        .insert(realtimeEvents)
        .values(
          Array.from({ length: 20 }, (_, i) => ({
            seq: sql`nextval('realtime_seq')`,
            accountId: 'acc-age',
            type: 'message:new',
            data: { n: i },
            createdAt: new Date(Date.now() - (i < 12 ? 5 : 0) * 3_600_000),
          })),
        )
        .returning({ seq: realtimeEvents.seq });
      const seqs = rows.map((row) => row.seq).sort((a, b) => a - b);
      const retention = { olderThan: new Date(Date.now() - 3_600_000), keepCount: 1000, batchSize: 5 };

      const deleted: number[] = [];
      for (let batch = -1; batch !== 0; ) {
        batch = await pruneRealtimeEventsBatch(drizzle, retention);
        deleted.push(batch);
      }
      expect(deleted).toEqual([5, 5, 2, 0]);
      const kept = await drizzle.select({ seq: realtimeEvents.seq }).from(realtimeEvents);
      expect(kept.map((row) => row.seq).sort((a, b) => a - b)).toEqual(seqs.slice(12));
    });
  });
});
