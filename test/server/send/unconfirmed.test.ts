import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { SEND_FAILURE_REASONS } from '../../../server/events/index.js';
import { messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { apiAuth } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import { postWebhook } from '../../support/webhooks.js';
import { chatMessages, openChat, publishedStatuses, send, useSendHarness, waitForStatus } from './support.js';

/** The `message:updated` data that reported the send's failure. */
async function failureData(app: FastifyInstance, localId: string) {
  const [row] = await queryRows<{ data: Record<string, unknown> }>(
    app.database.db,
    sql`select data from realtime_events
      where data->>'localId' = ${localId} and data->>'status' = 'failed' order by seq desc limit 1`,
  );
  return row?.data;
}

/** A failed send as the read API shows it. */
async function readItem(app: FastifyInstance, chatId: string, localId: string) {
  return (await chatMessages(app, chatId)).find((item) => item.localId === localId) as
    | (Record<string, unknown> & { status?: string })
    | undefined;
}

describe.each(testDatabaseKinds())('a send the provider never confirms, on %s', (kind) => {
  describe('with the default SEND_UNCONFIRMED_RESENDS (1)', () => {
    const t = useSendHarness(kind);

    it('is POSTed at most twice, then failed with reason unconfirmed, and a person may retry it', async () => {
      const { account, chatId } = await openChat(t.app);
      // 201 without an id, no echo, absent from the listing: forever, as far as this send goes.
      t.fake.sends.next('unlisted', 4);
      const text = 'Sent but never confirmed';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(2);
      expect(await publishedStatuses(t.app, localId)).toEqual([
        'pending',
        'unknown',
        'pending',
        'unknown',
        'failed',
      ]);
      expect(await failureData(t.app, localId)).toMatchObject({ status: 'failed', reason: 'unconfirmed' });
      const item = await readItem(t.app, chatId, localId);
      expect(item).toMatchObject({ status: 'failed', reason: 'unconfirmed' });
      expect(typeof item?.error).toBe('string');

      // The provider still never confirms (2 `unlisted` answers are left): the retry gets a fresh
      // budget, and it is bounded too.
      const retry = await t.app.inject({
        method: 'POST',
        url: `/api/chats/${chatId}/messages/${localId}/retry`,
        headers: apiAuth,
      });
      expect(retry.statusCode).toBe(202);
      expect(retry.json()).not.toHaveProperty('reason');
      await waitFor(async () => (await publishedStatuses(t.app, localId)).length === 10, 'failed again');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(4);
    });

    it('settles an unconfirmed failure as sent when its echo comes late: one message, no Retry needed', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('unlisted', 2);
      const text = 'Echoed only later';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      const first = t.fake.sends.sent.find((message) => message.text === text)!;
      const echo = {
        ...messageReceived({ account, chatId, messageId: first.id, text, fromAccount: true }),
        is_sender: true,
      };
      expect((await postWebhook(t.app, echo)).statusCode).toBe(200);
      const settled = await waitForStatus(t.app, chatId, localId, 'sent');
      expect(settled.messageId).toBe(first.id);
      expect(settled).not.toHaveProperty('reason');
      expect((await chatMessages(t.app, chatId)).filter((item) => item.text === text)).toHaveLength(1);
    });

    it('gives the refused reason to a provider refusal (422)', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('refuse');
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'no way' })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(await readItem(t.app, chatId, localId)).toMatchObject({ reason: 'refused' });
      expect(await failureData(t.app, localId)).toMatchObject({ reason: 'refused' });
    });
  });

  describe('with SEND_UNCONFIRMED_RESENDS=0', () => {
    const t = useSendHarness(kind, { SEND_UNCONFIRMED_RESENDS: '0' });

    it('never resends an unconfirmed send', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('unlisted', 1);
      const text = 'Once only';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(1);
      expect(await readItem(t.app, chatId, localId)).toMatchObject({ reason: 'unconfirmed' });
    });
  });

  describe('with SEND_MAX_ATTEMPTS=2', () => {
    const t = useSendHarness(kind, { SEND_MAX_ATTEMPTS: '2', SEND_UNCONFIRMED_RESENDS: '5' });

    it('counts every POST against the attempts, whatever its outcome', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('unlisted', 2);
      const text = 'Within the attempts';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(2);
      expect(await readItem(t.app, chatId, localId)).toMatchObject({ reason: 'unconfirmed' });
    });

    it('says unconfirmed, not rate_limited, when an earlier attempt of the send may have been sent', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('unlisted', 1);
      t.fake.sends.next('rate-limit', 1);
      const text = 'Maybe sent, then throttled';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(2);
      expect(await readItem(t.app, chatId, localId)).toMatchObject({ reason: 'unconfirmed' });
    });

    it('gives the rate_limited reason when 429s use up the attempts', async () => {
      const { account, chatId } = await openChat(t.app);
      t.fake.sends.next('rate-limit', 2);
      const text = 'Throttled out';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      await waitForStatus(t.app, chatId, localId, 'failed');
      expect(t.fake.sends.received.filter((request) => request.text === text)).toHaveLength(2);
      expect(await readItem(t.app, chatId, localId)).toMatchObject({ reason: 'rate_limited' });
      expect(SEND_FAILURE_REASONS).toContain('rate_limited');
    });
  });
});
