import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  accountStatus,
  fakeAccount,
  fakeAttendee,
  messageReceived,
} from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, MAX_TRAFFIC_COUNT, startFakeUnipile } from '../../../tools/fake-unipile/server.js';

const API_KEY = 'fake-server-test-key';

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A real receiver: answers the statuses queued in `answers` (then 200) and records every request. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  answers: number[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(body) });
      response.statusCode = answers.shift() ?? 200;
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the fake Unipile provider', () => {
  let fake: FakeUnipile;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${fake.url}/api/v1${path}`, {
      ...init,
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    fake = await startFakeUnipile({
      apiKey: API_KEY,
      pageSize: 2,
      delivery: { retries: 5, retryDelayMs: 1 },
    });
  });

  afterAll(async () => {
    await fake.close();
  });

  afterEach(() => {
    fake.state.webhooks.splice(0);
  });

  it('answers 401 errors/missing_credentials without the right X-API-KEY', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
      const response = await fetch(`${fake.url}/api/v1/webhooks`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ status: 401, type: 'errors/missing_credentials' });
    }
  });

  it('creates, pages through and deletes webhooks; an unknown id is a 404 problem', async () => {
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const response = await api('/webhooks', {
        method: 'POST',
        body: JSON.stringify({ request_url: `https://x.example/${name}`, source: 'messaging', name }),
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { object: string; webhook_id: string };
      expect(body.object).toBe('WebhookCreated');
      ids.push(body.webhook_id);
    }
    const first = (await (await api('/webhooks?limit=100')).json()) as {
      items: { id: string }[];
      cursor: string;
    };
    expect(first.items.map((item) => item.id)).toEqual(ids.slice(0, 2));
    const second = (await (await api(`/webhooks?cursor=${first.cursor}`)).json()) as {
      items: { id: string }[];
      cursor: string | null;
    };
    expect(second).toMatchObject({ object: 'WebhookList', cursor: null });
    expect(second.items.map((item) => item.id)).toEqual(ids.slice(2));

    expect(await (await api(`/webhooks/${ids[0]}`, { method: 'DELETE' })).json()).toEqual({
      object: 'WebhookDeleted',
    });
    const missing = await api(`/webhooks/${ids[0]}`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, type: 'errors/resource_not_found' });
    expect(fake.state.operations.slice(-4).map((op) => op.op)).toEqual([
      'create',
      'create',
      'create',
      'delete',
    ]);
  });

  it('rejects a webhook without a valid request_url or source with a 400 problem', async () => {
    const response = await api('/webhooks', {
      method: 'POST',
      body: JSON.stringify({ source: 'messaging' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'errors/invalid_parameters' });
  });

  it('injects failures through its control endpoint', async () => {
    await fetch(`${fake.url}/_fake/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 2, status: 503 }),
    });
    expect((await api('/webhooks')).status).toBe(503);
    expect((await api('/webhooks')).status).toBe(503);
    expect((await api('/webhooks')).status).toBe(200);
  });

  it('lists header keys without their values, and stops delivering to a webhook once disabled', async () => {
    const receiver = await startReceiver();
    try {
      const webhook = fake.addWebhook({
        source: 'messaging',
        request_url: receiver.url,
        headers: [{ key: 'Unipile-Auth', value: 'inbound-secret' }],
      });
      const listed = (await (await api('/webhooks')).json()) as { items: Record<string, unknown>[] };
      expect(listed.items[0]).toMatchObject({ headers: [{ key: 'Unipile-Auth' }] });
      expect(JSON.stringify(listed)).not.toContain('inbound-secret');

      const disabled = await fetch(`${fake.url}/_fake/webhooks/${webhook.id}/disable`, { method: 'POST' });
      expect(await disabled.json()).toEqual({ ok: true });
      expect(fake.state.webhooks[0]).toMatchObject({ enabled: false });
      expect(await fake.deliver(messageReceived())).toEqual([]);
      expect(receiver.received).toEqual([]);
      expect(fake.disableWebhook('wh_unknown')).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('delivers to every webhook of the payload source with its registered headers, retrying non-200', async () => {
    const receiver = await startReceiver();
    try {
      fake.addWebhook({
        name: 'ours',
        source: 'messaging',
        request_url: receiver.url,
        headers: [
          { key: 'Content-Type', value: 'application/json' },
          { key: 'Unipile-Auth', value: 'inbound-secret' },
        ],
      });
      fake.addWebhook({ name: 'plain', source: 'messaging', request_url: receiver.url });
      fake.addWebhook({ name: 'status', source: 'account_status', request_url: receiver.url });
      fake.addWebhook({ name: 'off', source: 'messaging', request_url: receiver.url, enabled: false });

      receiver.answers.push(500, 503);
      const deliveries = await fake.deliver(messageReceived({ text: 'hi' }));
      expect(deliveries).toHaveLength(2);
      const attempts = deliveries.flatMap((delivery) => delivery.attempts).sort();
      expect(attempts).toEqual([200, 200, 500, 503]);
      expect(deliveries.every((delivery) => delivery.acknowledged)).toBe(true);

      const ours = receiver.received.filter(
        (request) => request.headers['unipile-auth'] === 'inbound-secret',
      );
      expect(ours.length).toBeGreaterThan(0);
      for (const request of ours) {
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.body).toMatchObject({
          event: 'message_received',
          message: 'hi',
          webhook_name: 'ours',
        });
      }
      const plain = receiver.received.filter((request) => request.headers['unipile-auth'] === undefined);
      expect(plain.every((request) => request.headers['content-type']?.startsWith('text/plain'))).toBe(true);

      receiver.received.splice(0);
      await fake.deliver(accountStatus('acc_1', 'OK'));
      expect(receiver.received.map((request) => request.body)).toEqual([
        { AccountStatus: { account_id: 'acc_1', account_type: 'WHATSAPP', message: 'OK' } },
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('gives up after five retries', async () => {
    const receiver = await startReceiver();
    try {
      fake.addWebhook({ name: 'down', source: 'messaging', request_url: receiver.url });
      receiver.answers.push(500, 500, 500, 500, 500, 500, 500);
      const [delivery] = await fake.deliver(messageReceived());
      expect(delivery).toMatchObject({ acknowledged: false, attempts: [500, 500, 500, 500, 500, 500] });
    } finally {
      await receiver.close();
    }
  });

  it('sends a message on request through its control endpoint', async () => {
    const receiver = await startReceiver();
    try {
      fake.addWebhook({ name: 'ours', source: 'messaging', request_url: receiver.url });
      const response = await fetch(`${fake.url}/_fake/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello from curl' }),
      });
      expect(await response.json()).toMatchObject({ deliveries: [{ acknowledged: true, attempts: [200] }] });
      expect(receiver.received[0]?.body).toMatchObject({ message: 'hello from curl' });
    } finally {
      await receiver.close();
    }
  });
  it('streams realistic conversations through its control endpoint, and lists them in its REST history', async () => {
    const receiver = await startReceiver();
    try {
      fake.addWebhook({ name: 'ours', source: 'messaging', request_url: receiver.url });
      fake.addWebhook({ name: 'ours-status', source: 'account_status', request_url: receiver.url });
      const stream = async (body: unknown) =>
        (await fetch(`${fake.url}/_fake/traffic`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((response) => response.json())) as { sent: number; acknowledged: number; byKind: object };
      expect(await stream({ count: 20, seed: 9 })).toMatchObject({ sent: 20, acknowledged: 20 });
      expect(await stream({ count: 10 })).toMatchObject({ sent: 10, acknowledged: 10 });
      const bodies = receiver.received.map((entry) => entry.body as Record<string, unknown>);
      expect(bodies).toHaveLength(30);
      expect(bodies.some((body) => 'AccountStatus' in body)).toBe(true);
      const received = bodies.filter((body) => body.event === 'message_received');
      const accountId = received[0]!.account_id as string;
      const listed = (await (await api(`/messages?account_id=${accountId}&limit=250`)).json()) as {
        items: { id: string }[];
      };
      const ofAccount = new Set(
        received.filter((body) => body.account_id === accountId).map((body) => body.message_id),
      );
      expect(new Set(listed.items.map((item) => item.id))).toEqual(ofAccount);
    } finally {
      await receiver.close();
    }
  });
  it('refuses a traffic count it would not send in full, instead of cutting it', async () => {
    for (const count of [MAX_TRAFFIC_COUNT + 1, -1, 2.5, 'many']) {
      const response = await fetch(`${fake.url}/_fake/traffic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count }),
      });
      expect(response.status, String(count)).toBe(400);
      expect(((await response.json()) as { type: string }).type).toBe('errors/invalid_parameters');
    }
  });
  it('describes a chat it delivered in the echo of a send, and leaves an unknown chat undescribed', async () => {
    const receiver = await startReceiver();
    try {
      fake.addWebhook({ name: 'ours', source: 'messaging', request_url: receiver.url });
      const account = fakeAccount('LINKEDIN');
      const people = [fakeAttendee('LINKEDIN', 'Priyanka Shah')];
      await fake.deliver(
        messageReceived({ account, chatId: 'chat_known', sender: people[0], attendees: people }),
      );
      const reply = async (chatId: string) => {
        const form = new FormData();
        form.set('text', `reply in ${chatId}`);
        form.set('account_id', account.id);
        // fetch sets the multipart content type (with its boundary) itself.
        const response = await fetch(`${fake.url}/api/v1/chats/${chatId}/messages`, {
          method: 'POST',
          body: form,
          headers: { 'x-api-key': API_KEY },
        });
        expect(response.status).toBe(201);
        const text = `reply in ${chatId}`;
        await expect
          .poll(() =>
            receiver.received.find((entry) => (entry.body as { message?: string }).message === text),
          )
          .toBeDefined();
        return receiver.received.find((entry) => (entry.body as { message?: string }).message === text)!
          .body as Record<string, unknown>;
      };
      const known = await reply('chat_known');
      expect(known).toMatchObject({ account_type: 'LINKEDIN', is_sender: true, is_group: 0 });
      expect(
        (known.attendees as { attendee_name: string }[]).map((attendee) => attendee.attendee_name),
      ).toEqual(['Me', 'Priyanka Shah']);
      const unknown = await reply('chat_unknown');
      expect(unknown).not.toHaveProperty('account_type');
      expect(unknown).not.toHaveProperty('is_group');
      expect(unknown.attendees).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
