import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { toAttachment } from '../../../server/providers/unipile/normalize.js';
import { attachmentsSchema } from '../../../server/providers/unipile/webhook-schema.js';
import { apiAuth } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import {
  chatMessages,
  inboundMentioning,
  openChat,
  send,
  sendRow,
  useSendHarness,
  waitForStatus,
} from './support.js';

/** Small limits, so that each one is passed with a few kilobytes. */
const LIMITS = {
  SEND_ATTACHMENT_MAX_BYTES: '4096',
  SEND_ATTACHMENT_MAX_FILES: '3',
  SEND_ATTACHMENTS_MAX_TOTAL_BYTES: '6144',
};

interface Upload {
  name: string;
  type: string;
  bytes: Buffer;
}

const upload = (name: string, size: number, type = 'application/pdf'): Upload => ({
  name,
  type,
  bytes: randomBytes(size),
});

/** A multipart/form-data body as a browser's FormData encodes it. */
async function formBody(fields: Record<string, string>, files: readonly Upload[], fileField = 'attachments') {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files)
    form.append(fileField, new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get('content-type') ?? '',
  };
}

async function sendForm(
  app: FastifyInstance,
  chatId: string,
  fields: Record<string, string>,
  files: readonly Upload[],
  options: { headers?: Record<string, string>; fileField?: string } = {},
) {
  const { payload, contentType } = await formBody(fields, files, options.fileField);
  return app.inject({
    method: 'POST',
    url: `/api/chats/${chatId}/messages`,
    headers: { ...(options.headers ?? apiAuth), 'content-type': contentType },
    payload,
  });
}

/** The files stored for a send (until it settles). */
function storedFiles(app: FastifyInstance, localId: string) {
  return queryRows<{ filename: string; mimetype: string; size: number; content: Buffer }>(
    app.database.db,
    sql`select filename, mimetype, size, content from send_attachments
      where local_id = ${localId} order by position`,
  );
}

async function sendsIn(app: FastifyInstance, chatId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    app.database.db,
    sql`select count(*) as n from sends where chat_id = ${chatId}`,
  );
  return Number(row?.n);
}

describe.each(testDatabaseKinds())('send attachments on %s', (kind) => {
  const t = useSendHarness(kind, LIMITS);

  it('stores the files until the send settles, forwards their bytes, and then drops them', async () => {
    const { account, chatId } = await openChat(t.app);
    const files = [upload('report.pdf', 3000), upload('photo.png', 2000, 'image/png')];
    // A slow provider keeps the send in flight while its stored files are read back.
    t.fake.setLatency(400);
    let localId: string;
    try {
      const accepted = await sendForm(t.app, chatId, { accountId: account.id, text: 'with files' }, files);
      expect(accepted.statusCode, accepted.body).toBe(202);
      const body = accepted.json();
      localId = body.localId;
      expect(body.status).toBe('pending');
      expect(body.attachments).toMatchObject([
        { filename: 'report.pdf', mimetype: 'application/pdf', fileSize: 3000 },
        { filename: 'photo.png', mimetype: 'image/png', fileSize: 2000 },
      ]);
      const stored = await storedFiles(t.app, localId);
      expect(stored.map((row) => [row.filename, row.mimetype, row.size])).toEqual([
        ['report.pdf', 'application/pdf', 3000],
        ['photo.png', 'image/png', 2000],
      ]);
      expect(stored[0]!.content.equals(files[0]!.bytes)).toBe(true);
    } finally {
      t.fake.setLatency(0);
    }

    const sent = await waitForStatus(t.app, chatId, localId, 'sent');
    const received = t.fake.sends.received.filter((request) => request.text === 'with files');
    expect(received).toHaveLength(1);
    expect(received[0]!.attachments.map((file) => [file.filename, file.mimetype])).toEqual([
      ['report.pdf', 'application/pdf'],
      ['photo.png', 'image/png'],
    ]);
    expect(received[0]!.attachments[0]!.bytes.equals(files[0]!.bytes)).toBe(true);
    expect(received[0]!.attachments[1]!.bytes.equals(files[1]!.bytes)).toBe(true);
    expect(await storedFiles(t.app, localId)).toEqual([]);

    // The echo, carrying the provider's attachments, adds no second message.
    await waitFor(async () => (await inboundMentioning(t.app, sent.messageId!)) > 0, 'the echo');
    const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === 'with files');
    expect(copies).toHaveLength(1);
    expect((copies[0] as unknown as { attachments: unknown[] }).attachments).toHaveLength(2);
    // The echo describes the files as Unipile does, in a shape the webhook parser reads.
    const [echo] = await queryRows<{ raw_body: string }>(
      t.app.database.db,
      sql`select raw_body from inbound_events where raw_body like ${`%${sent.messageId}%`} limit 1`,
    );
    const echoed = attachmentsSchema.parse(JSON.parse(echo!.raw_body).attachments).map(toAttachment);
    expect(echoed).toMatchObject([
      { filename: 'report.pdf', mimetype: 'application/pdf', fileSize: 3000, type: 'file' },
      { filename: 'photo.png', mimetype: 'image/png', fileSize: 2000, type: 'img' },
    ]);
    expect(echoed.every((attachment) => typeof attachment.id === 'string')).toBe(true);
  });

  it('settles once when the echo with attachments arrives before the 201', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.echoFirst(true);
    try {
      const files = [upload('notes.txt', 100, 'text/plain')];
      const accepted = await sendForm(
        t.app,
        chatId,
        { accountId: account.id, text: 'echo has files' },
        files,
      );
      const { localId } = accepted.json();
      await waitForStatus(t.app, chatId, localId, 'sent');
      expect((await sendRow(t.app, localId))?.settled_by).toBe('echo');
      const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === 'echo has files');
      expect(copies).toHaveLength(1);
      expect(await storedFiles(t.app, localId)).toEqual([]);
    } finally {
      t.fake.sends.echoFirst(false);
    }
  });

  it('keeps the files of a refused send, and its retry sends them', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.next('refuse');
    const accepted = await sendForm(t.app, chatId, { accountId: account.id, text: 'refused file' }, [
      upload('a.pdf', 10),
    ]);
    const { localId } = accepted.json();
    await waitForStatus(t.app, chatId, localId, 'failed');
    expect(await storedFiles(t.app, localId)).toHaveLength(1);
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/chats/${chatId}/messages/${localId}/retry`,
      headers: apiAuth,
    });
    expect(retry.statusCode).toBe(202);
    await waitForStatus(t.app, chatId, localId, 'sent');
    const sent = t.fake.sends.received.filter((request) => request.text === 'refused file');
    expect(sent.map((request) => request.attachments.map((file) => file.bytes.length))).toEqual([[10], [10]]);
    expect(await storedFiles(t.app, localId)).toEqual([]);
  });

  it('replays a repeated Idempotency-Key for a multipart send and sends once', async () => {
    const { account, chatId } = await openChat(t.app);
    const headers = { ...apiAuth, 'idempotency-key': `key-${randomUUID()}` };
    const fields = { accountId: account.id, text: 'file once' };
    const files = [upload('once.pdf', 500)];
    const first = await sendForm(t.app, chatId, fields, files, { headers });
    const second = await sendForm(t.app, chatId, fields, files, { headers });
    expect(first.statusCode).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    await waitForStatus(t.app, chatId, first.json().localId, 'sent');
    expect(t.fake.sends.received.filter((request) => request.text === 'file once')).toHaveLength(1);
    expect(await sendsIn(t.app, chatId)).toBe(1);
  });

  it('refuses files past each limit with 413 HL_ERR_PAYLOAD_TOO_LARGE and stores nothing', async () => {
    const { account, chatId } = await openChat(t.app);
    const fields = { accountId: account.id, text: 'too much' };
    const cases: Array<[string, Upload[]]> = [
      ['one file over SEND_ATTACHMENT_MAX_BYTES', [upload('big.pdf', 4097)]],
      ['more than SEND_ATTACHMENT_MAX_FILES', [1, 2, 3, 4].map((n) => upload(`f${n}.pdf`, 10))],
      ['a total over SEND_ATTACHMENTS_MAX_TOTAL_BYTES', [upload('a.pdf', 4000), upload('b.pdf', 4000)]],
    ];
    for (const [name, files] of cases) {
      const response = await sendForm(t.app, chatId, fields, files);
      expect(response.statusCode, name).toBe(413);
      expect(response.json().error.code, name).toBe('HL_ERR_PAYLOAD_TOO_LARGE');
    }
    const json = await send(t.app, chatId, { accountId: account.id, text: 'x'.repeat(70 * 1024) });
    expect(json.statusCode).toBe(413);
    expect(json.json().error.code).toBe('HL_ERR_PAYLOAD_TOO_LARGE');
    expect(await sendsIn(t.app, chatId)).toBe(0);
  });

  it('refuses a declared length over every limit before reading the body', async () => {
    const { port } = t.app.server.address() as AddressInfo;
    const answer = await new Promise<[number, string | undefined]>((resolve, reject) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/chats/chat_x/messages',
        headers: {
          ...apiAuth,
          'content-type': 'multipart/form-data; boundary=b',
          'content-length': 10_000_000,
        },
      });
      request.on('response', (response) => {
        resolve([response.statusCode ?? 0, response.headers.connection]);
        response.resume();
        request.destroy();
      });
      request.on('error', reject);
      // Headers only: the body never comes, and the answer must not wait for it.
      request.flushHeaders();
    });
    expect(answer).toEqual([413, 'close']);
  });

  it('refuses malformed multipart bodies with 400 HL_ERR_INVALID_REQUEST and stores nothing', async () => {
    const { account, chatId } = await openChat(t.app);
    const fields = { accountId: account.id, text: 'bad form' };
    const refusals = [
      await sendForm(t.app, chatId, fields, [upload('a.pdf', 10)], { fileField: 'file' }),
      await sendForm(t.app, chatId, { ...fields, extra: 'x' }, []),
      await sendForm(t.app, chatId, { ...fields, text: 'nul \u0000 inside' }, []),
      await sendForm(t.app, chatId, fields, [upload('nul\u0000.pdf', 10)]),
      await sendForm(t.app, chatId, { accountId: account.id }, [upload('a.pdf', 10)]),
      await t.app.inject({
        method: 'POST',
        url: `/api/chats/${chatId}/messages`,
        headers: { ...apiAuth, 'content-type': 'multipart/form-data' },
        payload: 'no boundary',
      }),
      await t.app.inject({
        method: 'POST',
        url: `/api/chats/${chatId}/messages`,
        headers: { ...apiAuth, 'content-type': 'multipart/form-data; boundary=xyz' },
        payload: '--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\ncut off',
      }),
      await send(t.app, chatId, { ...fields, attachments: ['a.pdf'] }),
    ];
    for (const [index, response] of refusals.entries()) {
      expect(response.statusCode, `case ${index}: ${response.body}`).toBe(400);
      expect(response.json().error.code, `case ${index}`).toBe('HL_ERR_INVALID_REQUEST');
    }
    expect(await sendsIn(t.app, chatId)).toBe(0);
  });
});
