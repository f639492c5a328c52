import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAccount, fakeAttachment, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';

describe('the fake provider’s attachment downloads and chat updates', () => {
  let fake: FakeUnipile;
  beforeAll(async () => {
    fake = await startFakeUnipile();
  });
  afterAll(async () => {
    await fake?.close();
  });
  const call = (method: 'GET' | 'PATCH', path: string, body?: unknown) =>
    request(`${fake.url}/api/v1${path}`, {
      method,
      headers: { 'x-api-key': fake.apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('serves a file put there with its type and length, and a 404 problem for any other', async () => {
    fake.files.put('msg_1', 'att_1', { bytes: Buffer.from('hello'), mimetype: 'text/plain' });
    const found = await call('GET', '/messages/msg_1/attachments/att_1');
    expect(found.statusCode).toBe(200);
    expect(found.headers['content-type']).toContain('text/plain');
    expect(found.headers['content-length']).toBe('5');
    expect(await found.body.text()).toBe('hello');
    const missing = await call('GET', '/messages/msg_1/attachments/att_2');
    expect(missing.statusCode).toBe(404);
    expect(((await missing.body.json()) as { type: string }).type).toBe('errors/resource_not_found');
    expect(fake.files.requested).toEqual(['msg_1/att_1', 'msg_1/att_2']);
  });

  it('gives the images of a message it delivers a generated PNG', async () => {
    const payload = messageReceived({
      account: fakeAccount(),
      attachments: [fakeAttachment({ id: 'att_pic' })],
    });
    await fake.deliver(payload);
    const image = await call('GET', `/messages/${payload.message_id}/attachments/att_pic`);
    expect(image.headers['content-type']).toBe('image/png');
    expect((await image.body.arrayBuffer()).byteLength).toBeGreaterThan(8);
  });

  it('records setReadStatus calls, and fails the next ones on demand', async () => {
    fake.chatReads.failNext(1, 503);
    expect((await call('PATCH', '/chats/chat_a', { action: 'setReadStatus', value: true })).statusCode).toBe(
      503,
    );
    expect((await call('PATCH', '/chats/chat_a', { action: 'setReadStatus', value: true })).statusCode).toBe(
      200,
    );
    expect((await call('PATCH', '/chats/chat_a', { action: 'archive' })).statusCode).toBe(400);
    expect(fake.chatReads.calls.map((entry) => entry.status)).toEqual([503, 200, 400]);
    expect(fake.chatReads.marked()).toEqual(['chat_a']);
  });
});
