import { asc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries, endpoints, realtimeEvents } from '../../../drizzle/schema.js';
import { transaction } from '../../../server/db/transaction.js';
import { publishToOutboxes } from '../../../server/outbound/index.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

const endpoint = (
  id: string,
  filters: { eventTypes?: string[]; accountIds?: string[]; enabled?: boolean },
) => ({
  id,
  url: `https://${id}.example.com/hook`,
  secretEncrypted: 'not-used-here',
  maxAttempts: 3,
  ...filters,
});

describe.each(testDatabaseKinds())('outboxes on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('appends realtime events with seq in publication order, and reports the highest', async () => {
    const { db: drizzle } = db.current.database;
    const realtime = ['c', 'a', 'b'].map((name) => ({
      accountId: 'acc',
      type: 'message:new',
      data: { name },
    }));
    const published = await transaction(drizzle, (tx) => publishToOutboxes(tx, { realtime }));

    const rows = await drizzle.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq));
    expect(rows.map((row) => (row.data as { name: string }).name)).toEqual(['c', 'a', 'b']);
    expect(published).toEqual({ deliveries: 0, realtimeSeq: rows.at(-1)?.seq });
  });

  it('enqueues one delivery per event and enabled endpoint whose filters match', async () => {
    const { db: drizzle } = db.current.database;
    await drizzle
      .insert(endpoints)
      .values([
        endpoint('ep_all', {}),
        endpoint('ep_updates', { eventTypes: ['message.updated'] }),
        endpoint('ep_acc_b', { accountIds: ['acc_b'] }),
        endpoint('ep_off', { enabled: false }),
      ]);
    const outbound = [
      { type: 'message.received', accountId: 'acc_a', webhookId: 'msg_1', payload: { n: 1 } },
      { type: 'message.updated', accountId: 'acc_b', webhookId: 'msg_2', payload: { n: 2 } },
    ];
    const published = await transaction(drizzle, (tx) => publishToOutboxes(tx, { outbound }));

    const rows = await drizzle.select().from(deliveries).orderBy(asc(deliveries.id));
    expect(rows.map((row) => [row.webhookId, row.endpointId, row.status])).toEqual([
      ['msg_1', 'ep_all', 'pending'],
      ['msg_2', 'ep_acc_b', 'pending'],
      ['msg_2', 'ep_all', 'pending'],
      ['msg_2', 'ep_updates', 'pending'],
    ]);
    expect(rows[0]?.payload).toEqual({ n: 1 });
    expect(published).toEqual({ deliveries: 4 });
  });
});
