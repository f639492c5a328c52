import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries, endpoints, messages, realtimeEvents } from '../../../drizzle/schema.js';
import { ingestMessages, ingestReceived, type ReceivedMessage } from '../../../server/db/ingest-messages.js';
import { applyMessageChange } from '../../../server/db/messages.js';
import { outboxRows } from '../../../server/db/outboxes.js';
import { transaction } from '../../../server/db/transaction.js';
import {
  Envelopes,
  EVENT_TYPES,
  type NewMessageData,
  newMessageData,
  newWebhookId,
  outboundDeliveries,
} from '../../../server/events/index.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

const TYPES = { realtime: 'message:new', outbound: EVENT_TYPES['message:new'] };

const received = (id: string, overrides: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  dedupeKey: `key_${id}`,
  accountId: 'acc_1',
  id,
  chatId: 'chat_1',
  providerMessageId: null,
  text: `text of ${id}`,
  sender: { id: 'att_1', name: 'Ada', providerId: 'p_1', profileUrl: null },
  isSender: false,
  attachments: [],
  quoted: null,
  extra: null,
  sentAt: new Date('2026-11-20T10:00:00.123Z'),
  providerChatId: null,
  accountType: 'WHATSAPP',
  subject: null,
  isGroup: false,
  attendees: null,
  preview: null,
  ...overrides,
});

/**
 * Messages whose envelopes differ in every way newMessageData allows, in a chat of their own (the
 * tests share one database); `edited` and `deleted` fill in placeholders (see outOfOrderEvents).
 */
const variety = (chat: string) =>
  [
    received('plain'),
    received('odd', { text: `quote " backslash \\ emoji 🙂 newline \n ${'x'.repeat(300)}` }),
    received('empty', { text: null, sender: null, attachments: [{ id: 'a1', sticker: true }] }),
    received('own', { isSender: true, sentAt: new Date('1999-12-31T23:59:59.999Z') }),
    received('edited'),
    received('deleted'),
  ].map((message) => ({
    ...message,
    id: `${chat}_${message.id}`,
    dedupeKey: `${chat}_${message.dedupeKey}`,
    chatId: chat,
  }));

/** What the TypeScript definition makes of a value: JSON, as both outboxes store it. */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe.each(testDatabaseKinds())('envelopes built in SQL on %s', (kind) => {
  const db = useTestDatabase(kind);

  /** Leaves placeholders for `edited` and `deleted`, so their messages fill them in. */
  async function outOfOrderEvents(chat: string) {
    const { db: drizzle } = db.current.database;
    const key = (messageId: string) => ({
      accountId: 'acc_1',
      messageId: `${chat}_${messageId}`,
      chatId: chat,
    });
    await transaction(drizzle, async (tx) => {
      await applyMessageChange(tx, key('edited'), {
        kind: 'edited',
        text: 'edited first',
        at: new Date('2026-11-20T10:01:00.456Z'),
      });
      await applyMessageChange(tx, key('deleted'), { kind: 'deleted', at: new Date('2026-11-20T10:02:00Z') });
    });
  }

  /** newMessageData (server/events/data.ts) of each message as stored, by id. */
  async function definedData(): Promise<Map<string, NewMessageData>> {
    const rows = await db.current.database.db.select().from(messages);
    return new Map(rows.map((row) => [row.id, asJson(newMessageData(row)) as NewMessageData]));
  }

  it('publish the realtime and outbound envelopes the TypeScript definition describes', async () => {
    const { db: drizzle } = db.current.database;
    const VARIETY = variety('published');
    await outOfOrderEvents('published');
    await drizzle
      .insert(endpoints)
      .values({ id: 'ep_1', url: 'https://example.com/', secretEncrypted: 'x', maxAttempts: 3 });
    await ingestReceived(
      drizzle,
      {
        inbound: VARIETY.map((message) => ({
          provider: 'unipile',
          event: 'message_received',
          dedupeKey: message.dedupeKey,
          accountId: message.accountId,
          status: 'accepted' as const,
          rawBody: message.id,
        })),
        accounts: [],
        messages: VARIETY,
      },
      TYPES,
    );
    const defined = await definedData();
    const realtime = (await drizzle.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq))).filter(
      (event) => (event.data as { chatId: string }).chatId === 'published',
    );
    const queued = await drizzle
      .select()
      .from(deliveries)
      .where(eq(deliveries.endpointId, 'ep_1'))
      .orderBy(asc(deliveries.id));

    expect(realtime.map((event) => (event.data as { messageId: string }).messageId)).toEqual(
      VARIETY.map((message) => message.id),
    );
    expect(queued).toHaveLength(VARIETY.length);
    for (const [index, event] of realtime.entries()) {
      const data = defined.get(VARIETY[index]!.id);
      // Realtime: the row publishToOutboxes would write for the envelope Envelopes.add makes.
      const envelopes = new Envelopes();
      envelopes.add('message:new', 'acc_1', data!);
      const [row] = outboxRows({ realtime: envelopes.realtime }).realtime;
      expect({ account_id: event.accountId, type: event.type, data: event.data }).toEqual(row);

      // Outbound: the same delivery, but for the webhook id and the time, drawn when it is made.
      const delivery = queued[index]!;
      const timestamp = (delivery.payload as { timestamp: string }).timestamp;
      const [expected] = outboundDeliveries([
        { ...envelopes.outbound[0]!, webhookId: delivery.webhookId, timestamp },
      ]);
      expect({ type: delivery.eventType, webhookId: delivery.webhookId, payload: delivery.payload }).toEqual(
        asJson({ type: expected!.type, webhookId: expected!.webhookId, payload: expected!.payload }),
      );
      expect(new Date(timestamp).toISOString()).toBe(timestamp);
      expect(delivery.webhookId).toMatch(webhookIdPattern());
    }
    expect(new Set(queued.map((delivery) => delivery.webhookId)).size).toBe(VARIETY.length);
  });

  it('return, inside a transaction, the data the TypeScript definition describes', async () => {
    const { db: drizzle } = db.current.database;
    const VARIETY = variety('returned');
    await outOfOrderEvents('returned');
    const { newMessages } = await transaction(drizzle, (tx) =>
      ingestMessages(tx, {
        inbound: VARIETY.map((message) => ({
          provider: 'unipile',
          event: 'message_received',
          dedupeKey: message.dedupeKey,
          accountId: message.accountId,
          status: 'accepted' as const,
          rawBody: message.id,
        })),
        accounts: [],
        messages: VARIETY,
      }),
    );
    const defined = await definedData();

    expect(newMessages.map((message) => message.id)).toEqual(VARIETY.map((message) => message.id));
    for (const message of newMessages) expect(message.data).toEqual(defined.get(message.id));
    expect(newMessages.find((message) => message.id === 'returned_edited')?.data).toMatchObject({
      text: 'edited first',
      editedAt: '2026-11-20T10:01:00.456Z',
    });
    expect(newMessages.find((message) => message.id === 'returned_deleted')?.data).toMatchObject({
      deletedAt: '2026-11-20T10:02:00.000Z',
    });
  });
});

/** The shape of newWebhookId's ids: its prefix, then as many lower-case hex digits as it draws. */
function webhookIdPattern(): RegExp {
  const sample = newWebhookId();
  const prefix = sample.slice(0, sample.indexOf('_') + 1);
  return new RegExp(`^${prefix}[0-9a-f]{${sample.length - prefix.length}}$`);
}
