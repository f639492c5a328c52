import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDisposition } from '../../../server/chats/attachments-route.js';
import { placeholderPng } from '../../../tools/fake-unipile/files.js';
import { fakeAccount, fakeAttachment, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { apiAuth, buildTestApp } from '../../support/app.js';
import { useTestDatabase } from '../../support/databases.js';
import { mintToken } from '../../support/realtime.js';
import { postWebhook } from '../../support/webhooks.js';

describe('GET /api/messages/:messageId/attachments/:attachmentId', () => {
  const db = useTestDatabase('postgres');
  let fake: FakeUnipile;
  let app: FastifyInstance;
  const account = fakeAccount();
  const photo = fakeAttachment({ id: 'att_photo', filename: 'beach.png', mimetype: 'image/png' });
  const pdf = fakeAttachment({
    id: 'att_pdf',
    type: 'file',
    filename: 'Déclaration "2026".pdf',
    mimetype: 'application/pdf',
  });
  const svg = fakeAttachment({ id: 'att_svg', type: 'img', filename: 'logo.svg', mimetype: 'image/svg+xml' });
  const big = fakeAttachment({ id: 'att_big', type: 'file', filename: 'big.bin', bytes: 200_000 });
  const streamed = fakeAttachment({ id: 'att_stream', type: 'file', filename: 'stream.bin', bytes: 10 });
  const message = messageReceived({
    account,
    chatId: 'chat_files',
    text: 'files',
    attachments: [photo, pdf, svg, big, streamed],
  });
  const png = placeholderPng(4, 3, [200, 10, 10]);

  beforeAll(async () => {
    fake = await startFakeUnipile();
    app = await buildTestApp(db.current.database, {
      env: { UNIPILE_DSN: fake.url, UNIPILE_API_KEY: fake.apiKey, ATTACHMENT_DOWNLOAD_MAX_BYTES: '100000' },
    });
    expect((await postWebhook(app, message)).statusCode).toBe(200);
    fake.files.put(message.message_id, 'att_photo', { bytes: png, mimetype: 'image/png' });
    fake.files.put(message.message_id, 'att_pdf', {
      bytes: Buffer.from('%PDF-1.4'),
      mimetype: 'application/pdf',
    });
    fake.files.put(message.message_id, 'att_svg', {
      bytes: Buffer.from('<svg/>'),
      mimetype: 'image/svg+xml',
    });
    fake.files.put(message.message_id, 'att_stream', {
      bytes: Buffer.alloc(300_000, 1),
      mimetype: 'application/octet-stream',
      chunked: true,
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const get = (attachmentId: string, authorization = apiAuth.authorization, messageId = message.message_id) =>
    app.inject({
      method: 'GET',
      url: `/api/messages/${messageId}/attachments/${attachmentId}`,
      headers: { authorization },
    });

  it('streams an image with its type, inline, nosniff and a short private cache', async () => {
    const response = await get('att_photo');
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(png)).toBe(true);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['content-disposition']).toMatch(/^inline; filename="beach.png"/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('private, max-age=300');
  });

  it('sends any other file, SVG included, as a download with its name', async () => {
    const file = await get('att_pdf');
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="D_claration _2026_.pdf"; filename*=UTF-8''D%C3%A9claration%20%222026%22.pdf`,
    );
    const vector = await get('att_svg');
    expect(vector.headers['content-disposition']).toMatch(/^attachment;/);
    expect(vector.headers['content-type']).not.toBe('image/png');
  });

  it('refuses files over ATTACHMENT_DOWNLOAD_MAX_BYTES, by their size or while streaming', async () => {
    const known = await get('att_big');
    expect(known.statusCode).toBe(413);
    expect(known.json().error.code).toBe('HL_ERR_PAYLOAD_TOO_LARGE');
    expect(fake.files.requested).not.toContain(`${message.message_id}/att_big`);
    // The provider's file is larger than the model said and comes without a length: cut short.
    const cut = await get('att_stream').catch((error: Error) => error);
    if (!(cut instanceof Error)) expect(cut.rawPayload.length).toBeLessThan(300_000);
  });

  it('answers 404 for a file the message does not list, or the provider no longer has', async () => {
    expect((await get('att_elsewhere')).json().error.code).toBe('HL_ERR_NOT_FOUND');
    expect(fake.files.requested).not.toContain(`${message.message_id}/att_elsewhere`);
    expect((await get('att_photo', apiAuth.authorization, 'msg_unknown')).statusCode).toBe(404);
    const other = messageReceived({
      account,
      chatId: 'chat_files',
      attachments: [fakeAttachment({ id: 'att_gone' })],
    });
    await postWebhook(app, other);
    const gone = await get('att_gone', apiAuth.authorization, other.message_id);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('HL_ERR_NOT_FOUND');
  });

  it("serves only the accounts a browser's token names", async () => {
    const stranger = `Bearer ${await mintToken(app, [fakeAccount().id])}`;
    expect((await get('att_photo', stranger)).statusCode).toBe(404);
    const owner = `Bearer ${await mintToken(app, [account.id])}`;
    expect((await get('att_photo', owner)).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: `/api/messages/${message.message_id}/attachments/att_photo` }))
        .statusCode,
    ).toBe(401);
  });

  it('answers 502 when the provider fails', async () => {
    fake.failNext(1, 500);
    const response = await get('att_photo');
    expect(response.statusCode).toBe(502);
    expect(response.json().error.code).toBe('HL_ERR_PROVIDER');
  });
});

describe('contentDisposition', () => {
  it('keeps plain names as they are and has no name without one', () => {
    expect(contentDisposition('inline', 'a.png')).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
    expect(contentDisposition('attachment', null)).toBe('attachment');
  });
});
