import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deliveries, endpoints, realtimeEvents } from '../../../drizzle/schema.js';
import { queryRows } from '../../../server/db/rows.js';
import { transaction } from '../../../server/db/transaction.js';
import { settleEchoes } from '../../../server/send/index.js';
import { storeSends } from '../../../server/send/queries/send-batches.js';
import { applyTransitions } from '../../../server/send/settle.js';
import { messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { postWebhook } from '../../support/webhooks.js';
import { openChat, sendRow, useSendHarness } from './support.js';

describe.each(testDatabaseKinds())('applying send outcomes in batches on %s', (kind) => {
  const t = useSendHarness(kind);

  /** A send whose attempt is recorded and whose lease is far off, so that only the test settles it. */
  async function attemptedSend(
    accountId: string,
    chatId: string,
    text: string,
    attachments: object[] = [],
  ): Promise<string> {
    const localId = `lm_${randomUUID().replaceAll('-', '')}`;
    await transaction(t.app.database.db, async (tx) => {
      await storeSends(tx, [{ localId, accountId, chatId, text, quoteId: null, attachments }]);
      await tx.execute(sql`update sends set status = 'sending', attempts = 1, attempt_started_at = now(),
        next_attempt_at = now() + interval '1 hour', lease_expires_at = now() + interval '1 hour'
        where local_id = ${localId}`);
    });
    return localId;
  }

  const messagesOf = (chatId: string) =>
    queryRows<{ id: string; localId: string | null; sendStatus: string | null; text: string }>(
      t.app.database.db,
      sql`select id, local_id as "localId", send_status as "sendStatus", text from messages
        where chat_id = ${chatId} and is_sender order by text, id`,
    );

  it('settles a batch of 201s in one go, merges a message the echo stored first, and leaves a send settled meanwhile alone', async () => {
    const { account, chatId } = await openChat(t.app);
    const plain = await attemptedSend(account.id, chatId, 'plain');
    const echoedFirst = await attemptedSend(account.id, chatId, 'echoed first');
    const settledMeanwhile = await attemptedSend(account.id, chatId, 'settled meanwhile');
    // The echo of `echoedFirst`, with a text that does not match it, is stored as its own message.
    const echo = messageReceived({ account, chatId, fromAccount: true, text: 'edited by the provider' });
    expect((await postWebhook(t.app, echo)).statusCode).toBe(200);
    await t.app.database.db.execute(
      sql`update sends set status = 'sent' where local_id = ${settledMeanwhile}`,
    );

    await applyTransitions(t.app.database.db, [
      {
        localId: plain,
        transition: { to: 'sent', providerId: 'msg_plain', settledBy: 'response' },
        expected: ['sending'],
      },
      {
        localId: echoedFirst,
        transition: { to: 'sent', providerId: echo.message_id, settledBy: 'response' },
        expected: ['sending'],
      },
      {
        localId: settledMeanwhile,
        transition: { to: 'sent', providerId: 'msg_late', settledBy: 'response' },
        expected: ['sending'],
      },
    ]);

    expect(await messagesOf(chatId)).toEqual([
      { id: echo.message_id, localId: echoedFirst, sendStatus: 'sent', text: 'edited by the provider' },
      { id: 'msg_plain', localId: plain, sendStatus: 'sent', text: 'plain' },
      { id: settledMeanwhile, localId: settledMeanwhile, sendStatus: 'pending', text: 'settled meanwhile' },
    ]);
    expect((await sendRow(t.app, plain))?.settled_by).toBe('response');
    expect((await sendRow(t.app, settledMeanwhile))?.settled_by).toBeNull();
  });

  it('applies a mixed batch in one transaction: a refusal, and a provider id named by two sends settles both into one message', async () => {
    const { account, chatId } = await openChat(t.app);
    const first = await attemptedSend(account.id, chatId, 'first');
    const second = await attemptedSend(account.id, chatId, 'second');
    const refused = await attemptedSend(account.id, chatId, 'refused');

    await applyTransitions(t.app.database.db, [
      {
        localId: first,
        transition: { to: 'sent', providerId: 'msg_twice', settledBy: 'response' },
        expected: ['sending'],
      },
      {
        localId: second,
        transition: { to: 'sent', providerId: 'msg_twice', settledBy: 'response' },
        expected: ['sending'],
      },
      {
        localId: refused,
        transition: { to: 'failed', reason: 'refused', error: 'cant_send_message', statusCode: 422 },
        expected: ['sending'],
      },
    ]);

    expect(await messagesOf(chatId)).toEqual([
      { id: 'msg_twice', localId: second, sendStatus: 'sent', text: 'first' },
      { id: refused, localId: refused, sendStatus: 'failed', text: 'refused' },
    ]);
    expect((await sendRow(t.app, first))?.status).toBe('sent');
    expect((await sendRow(t.app, second))?.status).toBe('sent');
    expect((await sendRow(t.app, refused))?.status).toBe('failed');
  });

  it('matches a batch of alike echoes to alike sends oldest first, one each, and the same echo twice once', async () => {
    const { account, chatId } = await openChat(t.app);
    const older = await attemptedSend(account.id, chatId, 'alike');
    const newer = await attemptedSend(account.id, chatId, 'alike');
    const echo = (messageId: string) => ({ accountId: account.id, chatId, messageId, text: 'alike' });

    await settleEchoes(t.app.database.db, [echo('msg_echo_1'), echo('msg_echo_1'), echo('msg_echo_2')], 300);

    expect(await messagesOf(chatId)).toEqual([
      { id: 'msg_echo_1', localId: older, sendStatus: 'sent', text: 'alike' },
      { id: 'msg_echo_2', localId: newer, sendStatus: 'sent', text: 'alike' },
    ]);
    expect((await sendRow(t.app, older))?.settled_by).toBe('echo');
    expect((await sendRow(t.app, newer))?.settled_by).toBe('echo');
  });

  it('publishes, in settle order, each send as sent for sockets and its message.sent for subscribers', async () => {
    const { db } = t.app.database;
    const { account, chatId } = await openChat(t.app);
    const file = { name: 'a.pdf', type: 'application/pdf', size: 3 };
    const settles = [
      { text: 'plain', settledBy: 'response' as const, attachments: [] },
      { text: 'looked up', settledBy: 'lookup' as const, attachments: [] },
      { text: 'with a file', settledBy: 'echo' as const, attachments: [file] },
    ];
    const localIds: string[] = [];
    for (const settle of settles) {
      localIds.push(await attemptedSend(account.id, chatId, settle.text, settle.attachments));
    }
    // An endpoint that refuses connections: the deliveries stay queued for the test to read.
    const endpointId = `ep_${randomUUID().slice(0, 8)}`;
    await db.insert(endpoints).values({
      id: endpointId,
      url: 'http://127.0.0.1:9/',
      secretEncrypted: 'x',
      maxAttempts: 1,
      accountIds: [account.id],
    });

    await applyTransitions(
      db,
      settles.map((settle, index) => ({
        localId: localIds[index]!,
        transition: { to: 'sent', providerId: `msg_settled_${index}`, settledBy: settle.settledBy },
        expected: ['sending'],
      })),
    );
    await db.update(endpoints).set({ enabled: false }).where(eq(endpoints.id, endpointId));

    const updates = (await db.select().from(realtimeEvents).orderBy(asc(realtimeEvents.seq))).filter(
      (event) =>
        event.type === 'message:updated' && localIds.includes((event.data as { localId: string }).localId),
    );
    const sent = await db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.endpointId, endpointId), eq(deliveries.eventType, 'message.sent')))
      .orderBy(asc(deliveries.id));
    const expected = settles.map((settle, index) => ({
      accountId: account.id,
      chatId,
      messageId: `msg_settled_${index}`,
      localId: localIds[index],
      status: 'sent',
      text: settle.text,
    }));
    expect(updates.map((event) => event.data)).toEqual(
      expected.map((data) => ({ ...data, change: 'status' })),
    );
    expect(sent.map((delivery) => delivery.payload)).toEqual(
      expected.map((data, index) => ({
        type: 'message.sent',
        timestamp: expect.any(String),
        data: expect.objectContaining({
          ...data,
          isSender: true,
          attachments: settles[index]!.attachments,
          settledBy: settles[index]!.settledBy,
        }),
      })),
    );
  });
});
