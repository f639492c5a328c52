import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { HooklineError } from '../../../server/errors.js';
import { isPathSafeId, pathSegment } from '../../../server/shared/path-segment.js';
import { apiAuth, useTestApp } from '../../support/app.js';

describe('provider path segments', () => {
  it('refuses ids that would walk or split the path', () => {
    for (const id of ['', '.', '..', 'a/b', '/', '../messages']) {
      expect(isPathSafeId(id)).toBe(false);
      expect(() => pathSegment(id)).toThrow(HooklineError);
    }
  });

  it('encodes every other id as exactly one segment that decodes back to it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter(isPathSafeId), (id) => {
        const segment = pathSegment(id);
        expect(segment).not.toContain('/');
        expect(new URL(`https://provider.example/chats/${segment}/messages`).pathname).toBe(
          `/chats/${segment}/messages`,
        );
        expect(decodeURIComponent(segment)).toBe(id);
      }),
    );
  });
});

/** A request sent as written: fetch and inject would resolve `%2E%2E` before the gateway saw it. */
function rawRequest(app: FastifyInstance, method: string, path: string, body?: object) {
  const port = (app.server.address() as AddressInfo).port;
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...apiAuth, ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            code: JSON.parse(Buffer.concat(chunks).toString() || '{}').error?.code,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

describe('ids in routes', () => {
  const t = useTestApp('postgres');
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('answers 400 for a chat id that is ".", ".." or contains "/", on the send and read routes', async () => {
    for (const segment of ['%2E', '%2E%2E', '.%2e', 'a%2Fb']) {
      const sent = await rawRequest(t.app, 'POST', `/api/chats/${segment}/messages`, {
        accountId: 'acc-a',
        text: 'hi',
      });
      expect(sent, segment).toEqual({ status: 400, code: 'HL_ERR_INVALID_REQUEST' });
      const read = await rawRequest(t.app, 'GET', `/api/chats/${segment}/messages`);
      expect(read, segment).toEqual({ status: 400, code: 'HL_ERR_INVALID_REQUEST' });
    }
  });
});
