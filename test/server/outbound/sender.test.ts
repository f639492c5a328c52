import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_EXCERPT_BYTES, WebhookSender } from '../../../server/outbound/sender.js';

describe('WebhookSender', () => {
  let server: Server;
  let url: string;
  let answer = '';
  const sender = new WebhookSender({ timeoutMs: 2000, allowPrivate: true, connectionsPerOrigin: 2 });

  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await sender.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = () =>
    sender.send(url, { 'content-type': 'application/json' }, '{}', new AbortController().signal);

  it('keeps a storable excerpt of any answer: U+0000 would make the attempt unrecordable', async () => {
    answer = `error\u0000detail`;
    const result = await send();

    expect(result).toMatchObject({ statusCode: 500, error: 'HTTP 500', bodyExcerpt: 'error\uFFFDdetail' });
  });

  it('keeps at most the first BODY_EXCERPT_BYTES of a long answer', async () => {
    answer = 'x'.repeat(BODY_EXCERPT_BYTES * 3);
    const result = await send();

    expect(result.bodyExcerpt).toHaveLength(BODY_EXCERPT_BYTES);
  });
});
