import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { chats, messages, sends } from '../../../../drizzle/schema.js';
import { transaction } from '../../../../server/db/transaction.js';
import { storeSends } from '../../../../server/send/queries/send-batches.js';
import { testDatabaseKinds, useTestDatabase } from '../../../support/databases.js';

const localId = () => `lm_${randomUUID().replaceAll('-', '')}`;

describe.each(testDatabaseKinds())('storing a batch of sends on %s', (kind) => {
  // The database alone: no worker claims the sends while the test reads them back.
  const t = useTestDatabase(kind);

  it('stores the sends whose chat exists, pending under their local ids, and returns their messages in batch order', async () => {
    const { db } = t.current.database;
    const account = { id: `acc_${randomUUID().slice(0, 8)}` };
    const chatId = `chat_${randomUUID().slice(0, 8)}`;
    await db.insert(chats).values({ accountId: account.id, id: chatId });
    const file = { name: 'a.pdf', type: 'application/pdf', size: 3 };
    const text = `quote " backslash \\ emoji 🙂 newline \n ${'x'.repeat(300)}`;
    const batch = [
      { localId: localId(), accountId: account.id, chatId, text: 'plain', quoteId: null },
      { localId: localId(), accountId: account.id, chatId, text, quoteId: 'msg_quoted' },
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

    const stored = await transaction(db, (tx) => storeSends(tx, batch));

    const kept = batch.filter((send) => send.chatId === chatId);
    expect(stored.map((message) => message.localId)).toEqual(kept.map((send) => send.localId));
    expect(stored).toEqual(
      kept.map((send) =>
        expect.objectContaining({
          accountId: account.id,
          chatId,
          id: send.localId,
          text: send.text,
          isSender: true,
          sendStatus: 'pending',
          attachments: send.attachments ?? [],
          sentAt: expect.any(Date),
        }),
      ),
    );
    const rows = await db
      .select()
      .from(messages)
      .where(
        inArray(
          messages.localId,
          kept.map((send) => send.localId),
        ),
      );
    expect(new Map(rows.map((row) => [row.localId, row.sentAt]))).toEqual(
      new Map(stored.map((message) => [message.localId, message.sentAt])),
    );
    expect(rows.find((row) => row.localId === kept[1]!.localId)?.quoted).toEqual({ id: 'msg_quoted' });
    const queued = await db
      .select()
      .from(sends)
      .where(
        inArray(
          sends.localId,
          kept.map((send) => send.localId),
        ),
      );
    expect(queued.map((send) => send.status)).toEqual(kept.map(() => 'queued'));
    const [chat] = await db.select().from(chats).where(eq(chats.id, chatId));
    expect(chat?.lastMessageId).toBe(kept.at(-1)?.localId);
  });

  it('stores nothing when no chat exists', async () => {
    const { db } = t.current.database;
    const send = { localId: localId(), accountId: 'acc_none', chatId: 'chat_none', text: 'x', quoteId: null };

    expect(await transaction(db, (tx) => storeSends(tx, [send]))).toEqual([]);
    expect(await db.select().from(sends).where(eq(sends.localId, send.localId))).toEqual([]);
  });
});
