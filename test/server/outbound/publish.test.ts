import { asc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries, endpoints, realtimeEvents } from '../../../drizzle/schema.js';
import { transaction } from '../../../server/db/transaction.js';
import { Envelopes } from '../../../server/events/index.js';
import { publish } from '../../../server/outbound/index.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

describe.each(testDatabaseKinds())('publish on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('writes the realtime envelopes in order and the outbound twins rendered in TypeScript', async () => {
    const { db: drizzle } = db.current.database;
    await drizzle
      .insert(endpoints)
      .values({ id: 'ep_1', url: 'https://ep.example.com/hook', secretEncrypted: 'x', maxAttempts: 3 });
    const envelopes = new Envelopes();
    const read = { accountId: 'acc_1', chatId: 'chat_1', unreadCount: 0 };
    envelopes.add('chat:read', 'acc_1', read);
    envelopes.addRealtime('chat:read', 'acc_1', { ...read, chatId: 'chat_2' });

    const published = await transaction(drizzle, (tx) => publish(tx, envelopes));

    const realtime = await drizzle.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq));
    expect(realtime.map((row) => (row.data as { chatId: string }).chatId)).toEqual(['chat_1', 'chat_2']);
    const [delivery, ...others] = await drizzle.select().from(deliveries);
    expect(others).toEqual([]);
    const [event] = envelopes.outbound;
    expect(delivery).toMatchObject({
      endpointId: 'ep_1',
      eventType: 'chat.read',
      webhookId: event?.webhookId,
      payload: { type: 'chat.read', timestamp: event?.timestamp, data: read },
    });
    expect(published).toEqual({ deliveries: 1, realtimeSeq: realtime.at(-1)?.seq });
  });

  it('writes nothing for an empty transaction', async () => {
    const { db: drizzle } = db.current.database;
    expect(await transaction(drizzle, (tx) => publish(tx, new Envelopes()))).toEqual({ deliveries: 0 });
  });
});
