import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listChatMessages } from '../../../server/db/messages.js';
import { queryRows } from '../../../server/db/rows.js';
import { EVENT_TYPES, newMessageData, newWebhookId, webhookBody } from '../../../server/events/index.js';
import { fakeAccount, followUp, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { createEndpoint, FAST_OUTBOUND_ENV } from '../../support/outbound.js';
import { startWebhookSink, type WebhookSink } from '../../support/webhook-sink.js';
import { postWebhook } from '../../support/webhooks.js';

interface Row {
  webhook_id: string;
  event_type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  data: Record<string, unknown>;
}

/**
 * For throughput, Postgres builds the outbound twin and `webhook-id` of new messages itself
 * (server/db/ingest-messages.ts). What it writes must be what server/events would have built:
 * the same body shape, type, data and id format as the TypeScript path that follow-ups take.
 */
describe.each(testDatabaseKinds())('envelopes built in SQL on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });
  let sink: WebhookSink;

  beforeAll(async () => {
    sink = await startWebhookSink();
  });

  afterAll(async () => {
    await sink?.close();
  });

  /** Each delivery of the account's events, with the realtime row it mirrors (same data, by order). */
  async function published(accountId: string): Promise<Row[]> {
    return queryRows<Row>(
      t.app.database.db,
      sql`select d.webhook_id, d.event_type, d.payload, r.data
          from deliveries d
          join lateral (
            select data from realtime_events r
            where r.account_id = ${accountId} and r.data = d.payload->'data'
            order by seq limit 1
          ) r on true
          where d.payload->'data'->>'accountId' = ${accountId}
          order by d.id`,
    );
  }

  it('matches the events module for a new message, and the TypeScript path for a follow-up', async () => {
    const account = fakeAccount();
    await createEndpoint(t.app, { url: sink.url, accountIds: [account.id] });
    const original = messageReceived({ account, text: 'built in SQL' });
    expect((await postWebhook(t.app, original)).statusCode).toBe(200);
    expect(
      (await postWebhook(t.app, followUp('message_edited', original, { message: 'edited' }))).statusCode,
    ).toBe(200);

    const [received, edited] = await published(account.id);
    const [stored] = await listChatMessages(t.app.database.db, {
      accountId: account.id,
      chatId: original.chat_id,
      limit: 1,
    });
    const idFormat = /^msg_[0-9a-f]{32}$/;
    expect(newWebhookId()).toMatch(idFormat);

    expect(received!.event_type).toBe(EVENT_TYPES['message:new']);
    expect(received!.webhook_id).toMatch(idFormat);
    // The data is the message as first stored; the edit came after.
    const expected = webhookBody(
      EVENT_TYPES['message:new'],
      newMessageData({ ...stored!, text: 'built in SQL', editedAt: null }),
      new Date(received!.payload.timestamp),
    );
    expect(received!.payload).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(received!.data).toEqual(received!.payload.data);

    expect(edited!.event_type).toBe(EVENT_TYPES['message:updated']);
    expect(edited!.webhook_id).toMatch(idFormat);
    expect(Object.keys(edited!.payload)).toEqual(Object.keys(received!.payload));
    expect(new Date(received!.payload.timestamp).toISOString()).toBe(received!.payload.timestamp);
  });
});
