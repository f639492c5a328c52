import { randomUUID } from 'node:crypto';
import { asc, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { chats, messages, realtimeEvents, sends } from '../../../drizzle/schema.js';
import { storeSends } from '../../../server/send/send-batches.js';
import { sentMessageData } from '../../../server/events/index.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

const localId = () => `lm_${randomUUID().replaceAll('-', '')}`;

/** What a TypeScript value becomes as JSON, as the outbox and the route's answer carry it. */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe.each(testDatabaseKinds())('storing a batch of sends on %s', (kind) => {
  // The database alone: no worker claims the sends while the test reads them back.
  const t = useTestDatabase(kind);

  it('stores the sends whose chat exists and publishes, built in SQL, what sentMessageData describes', async () => {
    const { db } = t.current.database;
    const account = { id: `acc_${randomUUID().slice(0, 8)}` };
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    await db.insert(chats).values({ accountId: account.id, id: chatId });
    const file = { name: 'a.pdf', type: 'application/pdf', size: 3 };
    const batch = [
      { localId: localId(), accountId: account.id, chatId, text: 'plain', quoteId: null },
      {
        localId: localId(),
        accountId: account.id,
        chatId,
        text: `quote " backslash \\ emoji 🙂 newline \n ${'x'.repeat(300)}`,
        quoteId: 'msg_quoted',
      },
      { localId: localId(), accountId: account.id, chatId: 'chat_missing', text: 'nowhere', quoteId: null },
      {
        localId: localId(),
        accountId: account.id,
        chatId,
        text: 'with a file',
        quoteId: null,
        attachments: [file],
      },
    ];

    const { stored, published } = await storeSends(db, batch, { publish: true, realtimeType: 'message:new' });

    const kept = batch.filter((send) => send.chatId === chatId).map((send) => send.localId);
    expect(stored.map((send) => send.localId)).toEqual(kept);
    expect(published.realtimeSeq).toBeGreaterThan(0);
    const rows = new Map(
      (await db.select().from(messages).where(inArray(messages.localId, kept))).map((row) => [
        row.localId,
        row,
      ]),
    );
    const events = (await db.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq))).filter((event) =>
      kept.includes((event.data as { localId: string }).localId),
    );
    expect(events.map((event) => event.type)).toEqual(kept.map(() => 'message:new'));
    for (const [index, send] of stored.entries()) {
      const expected = asJson(sentMessageData(rows.get(send.localId)!));
      expect(send.data).toEqual(expected);
      expect(events[index]?.data).toEqual(expected);
    }
    expect(rows.get(kept[1]!)?.quoted).toEqual({ id: 'msg_quoted' });
    const queued = await db.select().from(sends).where(inArray(sends.localId, kept));
    expect(queued.map((send) => send.status)).toEqual(kept.map(() => 'queued'));
    const [chat] = await db.select().from(chats).where(eq(chats.id, chatId));
    expect(chat?.lastMessageId).toBe(kept.at(-1));
  });
});
