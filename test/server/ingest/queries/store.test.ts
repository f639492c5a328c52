import { asc, desc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  accounts,
  chats,
  deliveries,
  endpoints,
  inboundEvents,
  messages,
  realtimeEvents,
} from '../../../../drizzle/schema.js';
import type { Db } from '../../../../server/db/database.js';
import { transaction } from '../../../../server/db/transaction.js';
import { Envelopes, newMessageData } from '../../../../server/events/index.js';
import { applyMessageChange } from '../../../../server/ingest/queries/message-changes.js';
import {
  type InboundEventRow,
  type IngestBatch,
  type ReceivedMessage,
  storeBatch,
} from '../../../../server/ingest/queries/store.js';
import { publish } from '../../../../server/outbound/index.js';
import { testDatabaseKinds, useTestDatabase } from '../../../support/databases.js';

const odd = `quote " backslash \\ newline \n tab \t emoji 🙂 rtl \u202e sql '); drop table x; --`;

const body = (dedupeKey: string | null, rawBody: string): InboundEventRow => ({
  provider: 'unipile',
  event: 'message_received',
  dedupeKey,
  accountId: 'acc_1',
  status: 'accepted',
  rawBody,
});

const received = (id: string, overrides: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  dedupeKey: `key_${id}`,
  accountId: 'acc_1',
  id,
  chatId: 'chat_1',
  providerMessageId: `provider_${id}`,
  text: `text of ${id}`,
  sender: { id: 'att_1', name: 'Ada', providerId: 'p_1', profileUrl: null },
  isSender: false,
  attachments: [],
  quoted: null,
  extra: { folder: ['INBOX'] },
  sentAt: new Date('2026-11-20T10:00:00.000Z'),
  providerChatId: 'provider_chat_1',
  accountType: 'WHATSAPP',
  subject: null,
  isGroup: false,
  attendees: [{ id: 'att_1', name: 'Ada', providerId: 'p_1', profileUrl: null }],
  preview: `text of ${id}`,
  ...overrides,
});

/** The store of a prepared batch, with the `message:new` data of each message it stored. */
async function stored(executor: Db, batch: IngestBatch) {
  const { newKeys, stored } = await transaction(executor, (tx) => storeBatch(tx, batch));
  return {
    newKeys,
    newMessages: stored.map((message) => ({
      accountId: message.accountId,
      id: message.id,
      data: newMessageData(message),
    })),
  };
}

/** Records the bodies and applies the messages, each message carrying its own body's key. */
function ingest(executor: Db, batch: { messages: ReceivedMessage[]; bodies?: InboundEventRow[] }) {
  return stored(executor, {
    inbound: batch.bodies ?? batch.messages.map((message) => body(message.dedupeKey, message.id)),
    accounts: [],
    messages: batch.messages,
  });
}

/** A batch of only new messages as ingest applies it: the store, then their envelopes published. */
function ingestAndPublish(executor: Db, batch: IngestBatch) {
  return transaction(executor, async (tx) => {
    const { newKeys, stored } = await storeBatch(tx, batch);
    const envelopes = new Envelopes();
    for (const message of stored) envelopes.add('message:new', message.accountId, newMessageData(message));
    return { newKeys, ...(await publish(tx, envelopes)) };
  });
}

describe.each(testDatabaseKinds())('the store statement on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('stores bodies exactly as given and reports which dedupe keys were new', async () => {
    const { db: drizzle } = db.current.database;
    const error = { code: 'HL_ERR_INVALID_PAYLOAD', issues: [{ path: ['a', 0], message: odd }] };
    const rejected = { ...body(null, '{}'), status: 'rejected' as const, accountId: null, error };
    const first = await ingest(drizzle, {
      messages: [],
      bodies: [body('k1', odd), rejected, body('k2', '[]')],
    });
    const second = await ingest(drizzle, { messages: [], bodies: [body('k1', 'again'), body('k3', '')] });

    expect([...first.newKeys].sort()).toEqual(['k1', 'k2']);
    expect([...second.newKeys]).toEqual(['k3']);
    const stored = await drizzle.select().from(inboundEvents).orderBy(asc(inboundEvents.id));
    expect(stored.map((event) => event.rawBody)).toEqual([odd, '{}', '[]', '']);
    expect(stored[1]?.error).toEqual(error);
    expect(stored[1]?.accountId).toBeNull();
  });

  it('applies only messages whose key was new, returning them as stored', async () => {
    const { db: drizzle } = db.current.database;
    const message = received('m1', { text: odd, attachments: [{ id: 'a1', sticker: false }] });
    const first = await ingest(drizzle, { messages: [message] });
    const again = await ingest(drizzle, { messages: [{ ...message, text: 'changed' }] });

    expect(first.newMessages).toEqual([
      {
        accountId: 'acc_1',
        id: 'm1',
        data: {
          accountId: 'acc_1',
          chatId: 'chat_1',
          messageId: 'm1',
          text: odd,
          sender: message.sender,
          isSender: false,
          attachments: [{ id: 'a1', sticker: false }],
          sentAt: '2026-11-20T10:00:00.000Z',
        },
      },
    ]);
    expect(again).toEqual({ newKeys: new Set(), newMessages: [] });
    const [row] = await drizzle.select().from(messages);
    expect(row).toMatchObject({ text: odd, state: 'received', extra: { folder: ['INBOX'] } });
  });

  it('fills a placeholder in, keeping an edit that arrived first', async () => {
    const { db: drizzle } = db.current.database;
    const key = { accountId: 'acc_1', messageId: 'm2', chatId: 'chat_1' };
    const editedAt = new Date('2026-11-20T10:05:00.000Z');
    await transaction(drizzle, (tx) =>
      applyMessageChange(tx, key, { kind: 'edited', text: 'edited first', at: editedAt }),
    );
    const { newMessages } = await ingest(drizzle, { messages: [received('m2')] });

    expect(newMessages).toEqual([
      expect.objectContaining({
        id: 'm2',
        data: expect.objectContaining({ text: 'edited first', editedAt: editedAt.toISOString() }),
      }),
    ]);
  });

  it('bumps each chat once per batch: unread adds up, the latest message is the preview', async () => {
    const { db: drizzle } = db.current.database;
    const at = (minute: number) => new Date(`2026-11-21T10:0${minute}:00.000Z`);
    await ingest(drizzle, {
      messages: [
        received('c1', { chatId: 'chat_b', sentAt: at(2), preview: 'second' }),
        received('c2', { chatId: 'chat_b', sentAt: at(1), preview: 'first', subject: 'ignored' }),
        received('c3', { chatId: 'chat_b', sentAt: at(2), preview: 'tie, later arrival', isSender: true }),
      ],
    });
    // Older than what the chat shows: counted as unread, but not the preview.
    await ingest(drizzle, {
      messages: [received('c4', { chatId: 'chat_b', sentAt: at(0), attendees: null })],
    });

    const [chat] = await drizzle.select().from(chats).where(eq(chats.id, 'chat_b'));
    expect(chat).toMatchObject({
      accountId: 'acc_1',
      id: 'chat_b',
      unreadCount: 3,
      lastMessageId: 'c3',
      lastMessagePreview: 'tie, later arrival',
      lastMessageAt: at(2),
      subject: null,
      providerChatId: 'provider_chat_1',
      attendees: [{ id: 'att_1', name: 'Ada', providerId: 'p_1', profileUrl: null }],
    });
  });

  it('creates accounts and learns their details without rewriting unchanged rows', async () => {
    const { db: drizzle } = db.current.database;
    const seen = (userId: string | null) => ({
      id: 'acc_9',
      provider: 'unipile',
      accountType: 'WHATSAPP',
      userId,
    });
    const upsert = (userId: string | null) =>
      stored(drizzle, { inbound: [], accounts: [seen(userId)], messages: [] });
    await upsert(null);
    await upsert('me@s.whatsapp.net');
    const [learned] = await drizzle.select().from(accounts);
    await upsert(null);
    const [kept] = await drizzle.select().from(accounts);

    expect(learned).toMatchObject({ accountType: 'WHATSAPP', userId: 'me@s.whatsapp.net' });
    expect(kept?.updatedAt).toEqual(learned?.updatedAt);
  });

  describe('stored, rendered and published in one transaction', () => {
    const receivedBatch = (batch: ReceivedMessage[]) => ({
      inbound: batch.map((message) => body(message.dedupeKey, message.id)),
      accounts: [],
      messages: batch,
    });
    const lastSeq = async () =>
      (
        await db.current.database.db
          .select({ seq: realtimeEvents.seq })
          .from(realtimeEvents)
          .orderBy(desc(realtimeEvents.seq))
          .limit(1)
      )[0]?.seq ?? 0;
    const published = async (from: number) =>
      (await db.current.database.db.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq)))
        .filter((event) => event.seq > from)
        .map((event) => (event.data as { messageId: string }).messageId);

    it('publishes the envelopes of the messages it stored, and only those', async () => {
      const { db: drizzle } = db.current.database;
      const from = await lastSeq();
      const first = [received('r1'), received('r2')];
      const outcome = await ingestAndPublish(drizzle, receivedBatch(first));
      // r2 again (a provider retry) next to a new one: r2 is neither stored nor published twice.
      const second = [received('r2'), received('r3')];
      const again = await ingestAndPublish(drizzle, receivedBatch(second));

      expect([...outcome.newKeys].sort()).toEqual(['key_r1', 'key_r2']);
      expect(outcome).toMatchObject({ deliveries: 0, realtimeSeq: expect.any(Number) });
      expect([...again.newKeys]).toEqual(['key_r3']);
      expect(await published(from)).toEqual(['r1', 'r2', 'r3']);
    });

    it('enqueues a delivery per stored message once an endpoint is enabled, and none for a repeat', async () => {
      const { db: drizzle } = db.current.database;
      await drizzle
        .insert(endpoints)
        .values({ id: 'ep_1', url: 'https://example.com/', secretEncrypted: 'x', maxAttempts: 3 });
      try {
        const first = [received('o1'), received('o2')];
        const outcome = await ingestAndPublish(drizzle, receivedBatch(first));
        const second = [received('o2'), received('o3')];
        const again = await ingestAndPublish(drizzle, receivedBatch(second));

        expect(outcome.deliveries).toBe(2);
        expect(again.deliveries).toBe(1);
        const queued = await drizzle.select().from(deliveries).orderBy(asc(deliveries.id));
        // The realtime envelopes' data, under the outbound type.
        expect(queued.map((row) => row.payload)).toEqual(
          ['o1', 'o2', 'o3'].map((id) => ({
            type: 'message.received',
            timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
            data: expect.objectContaining({ messageId: id, chatId: 'chat_1' }),
          })),
        );
        for (const row of queued) {
          expect(row).toMatchObject({ endpointId: 'ep_1', eventType: 'message.received', status: 'pending' });
          expect(row.webhookId).toMatch(/^msg_[0-9a-f]{32}$/);
          const timestamp = (row.payload as { timestamp: string }).timestamp;
          expect(Math.abs(Date.parse(timestamp) - Date.now())).toBeLessThan(60_000);
        }
        expect(new Set(queued.map((row) => row.webhookId)).size).toBe(3);
      } finally {
        await drizzle.delete(endpoints).where(eq(endpoints.id, 'ep_1'));
      }
    });

    it('fills in a placeholder like any new message, publishing the merged state', async () => {
      const { db: drizzle } = db.current.database;
      const editedAt = new Date('2026-11-20T10:05:00.000Z');
      await transaction(drizzle, (tx) =>
        applyMessageChange(
          tx,
          { accountId: 'acc_1', messageId: 'p1', chatId: 'chat_1' },
          { kind: 'edited', text: 'edited first', at: editedAt },
        ),
      );
      const from = await lastSeq();
      const batch = [received('p0'), received('p1')];

      const outcome = await ingestAndPublish(drizzle, receivedBatch(batch));

      expect([...outcome.newKeys].sort()).toEqual(['key_p0', 'key_p1']);
      expect(await published(from)).toEqual(['p0', 'p1']);
      const [event] = await drizzle.select().from(realtimeEvents).orderBy(desc(realtimeEvents.seq)).limit(1);
      expect(event).toMatchObject({
        type: 'message:new',
        data: { messageId: 'p1', text: 'edited first', editedAt: editedAt.toISOString() },
      });
      const [chat] = await drizzle.select().from(chats).where(eq(chats.id, 'chat_1'));
      expect(chat?.lastMessagePreview).toBe('edited first');
    });
  });
});
