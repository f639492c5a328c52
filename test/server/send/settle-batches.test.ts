import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { insertSends } from '../../../server/db/send-batches.js';
import { transaction } from '../../../server/db/transaction.js';
import { applyTransitions } from '../../../server/send/settle.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { postWebhook } from '../../support/webhooks.js';
import { sendRow, useSendHarness } from './support.js';

describe.each(testDatabaseKinds())('applying send outcomes in batches on %s', (kind) => {
  const t = useSendHarness(kind);

  /** A send whose attempt is recorded and whose lease is far off, so that only the test settles it. */
  async function attemptedSend(accountId: string, chatId: string, text: string): Promise<string> {
    const localId = `lm_${randomUUID().replaceAll('-', '')}`;
    await transaction(t.app.database.db, async (tx) => {
      await insertSends(tx, [{ localId, accountId, chatId, text, quoteId: null }]);
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
        where chat_id = ${chatId} and is_sender order by text`,
    );

  it('settles a batch of 201s in one go, merges a message the echo stored first, and leaves a send settled meanwhile alone', async () => {
    const account = fakeAccount();
    const opening = messageReceived({ account });
    await postWebhook(t.app, opening);
    const chatId = opening.chat_id;
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
});
