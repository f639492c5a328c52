import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EVENT_CATALOG as OUTBOUND_CATALOG } from '../../server/events/index.js';
import { accountStatus, fakeAccount, followUp, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { useTestApp } from '../support/app.js';
import { testDatabaseKinds } from '../support/databases.js';
import { createEndpoint, FAST_OUTBOUND_ENV, verifyWebhook } from '../support/outbound.js';
import { mintToken } from '../support/realtime.js';
import { waitFor } from '../support/wait.js';
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.js';
import { postWebhook } from '../support/webhooks.js';

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The whole gateway: one provider webhook in, a WebSocket envelope and a signed delivery out. */
describe.each(testDatabaseKinds())('the composed gateway on %s', (kind) => {
  const t = useTestApp(kind, { env: FAST_OUTBOUND_ENV });
  let sink: WebhookSink;
  let url: string;

  beforeAll(async () => {
    sink = await startWebhookSink();
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = address.replace('http', 'ws');
  });

  afterAll(async () => {
    await sink?.close();
  });

  it('turns every provider event into its envelope and its signed, catalogued delivery', async () => {
    const account = fakeAccount();
    const endpoint = await createEndpoint(t.app, { url: sink.url, accountIds: [account.id] });
    const token = await mintToken(t.app, [account.id]);
    const socket = new WebSocket(`${url}/ws/messages?token=${token}`);
    const frames: { type: string; seq: number; data: Record<string, unknown> }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    await waitFor(() => frames.some((frame) => frame.type === 'hello'), 'hello');

    const original = messageReceived({ account, text: 'end to end' });
    const webhooks = [
      original,
      followUp('message_edited', original, { message: 'edited' }),
      followUp('message_reaction', original),
      followUp('message_read', original),
      followUp('message_deleted', original),
      accountStatus(account.id, 'CREDENTIALS'),
    ];
    for (const webhook of webhooks) expect((await postWebhook(t.app, webhook)).statusCode).toBe(200);
    const read = await t.app.inject({
      method: 'POST',
      url: `/api/chats/${original.chat_id}/read`,
      headers: { authorization: 'Bearer test-api-token-0123456789' },
    });
    expect(read.statusCode).toBe(200);

    // The provider's message_read of a received message clears the chat's badge (chat:read), so
    // the read route that follows finds nothing unread and publishes nothing more.
    const expectedTypes = [
      'message:new',
      'message:updated',
      'message:updated',
      'message:updated',
      'chat:read',
      'message:deleted',
      'account:status',
    ];
    await waitFor(() => frames.length >= expectedTypes.length + 1, 'every envelope');
    socket.close();
    const envelopes = frames.filter((frame) => frame.type !== 'hello');
    expect(envelopes.map((frame) => frame.type)).toEqual(expectedTypes);
    expect(envelopes[0]!.data).toMatchObject({
      accountId: account.id,
      chatId: original.chat_id,
      text: 'end to end',
    });

    await waitFor(() => sink.received.length >= expectedTypes.length, 'every delivery');
    const bodies = sink.received.map((request) => verifyWebhook(endpoint.secret, request) as Body);
    expect(bodies.map((body) => body.type)).toEqual(
      expectedTypes.map((type) => type.replace(':new', '.received').replace(':', '.')),
    );
    for (const body of bodies) {
      const described = OUTBOUND_CATALOG.find((entry) => entry.type === body.type);
      expect(described, body.type).toBeDefined();
      const dataSchema = (
        described!.schema.properties as { data: { required?: string[]; properties: Record<string, unknown> } }
      ).data;
      for (const field of dataSchema.required ?? [])
        expect(body.data, `${body.type}.${field}`).toHaveProperty(field);
      // And nothing undocumented: the catalog is what subscribers write their code against.
      for (const field of Object.keys(body.data)) {
        expect(Object.keys(dataSchema.properties), `${body.type}.${field} in the catalog`).toContain(field);
      }
    }
  });
});
