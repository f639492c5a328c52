import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintDevRealtimeToken, mintRealtimeToken } from '../../../server/realtime/tokens.js';
import { TEST_SECRETS, useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { appendEvents, messageNew, mintToken } from '../../support/realtime.js';
import { waitFor } from '../../support/wait.js';
import { connectClient, expectRefusal, messagesUrl } from '../../support/ws-client.js';

const ALLOWED_ORIGIN = 'https://inbox.example.com';

/** V8's `gc()`, without starting the test process with --expose-gc. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe.each(testDatabaseKinds())('GET /ws/messages on %s', (kind) => {
  const t = useTestApp(kind, {
    env: {
      REALTIME_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      REALTIME_MAX_CONNECTIONS_PER_TOKEN: '2',
      REALTIME_MAX_CLIENT_FRAME_BYTES: '256',
    },
  });

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  describe('auth matrix', () => {
    it('refuses a missing token with 401 before the upgrade', async () => {
      const refusal = await expectRefusal(messagesUrl(t.app, {}));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error).toMatchObject({
        code: 'HL_ERR_UNAUTHORIZED',
        details: { reason: 'missing' },
      });
    });

    it('refuses a token signed with another secret with 401', async () => {
      const { token } = await mintRealtimeToken('another-secret-0123456789abcdef0123456789', ['acc-a'], 600);
      const refusal = await expectRefusal(messagesUrl(t.app, { token }));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error).toMatchObject({
        code: 'HL_ERR_UNAUTHORIZED',
        details: { reason: 'invalid' },
      });
    });

    it('refuses a token that is not a JWT with 401', async () => {
      const refusal = await expectRefusal(messagesUrl(t.app, { token: 'not.a.jwt' }));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error.details?.reason).toBe('invalid');
    });

    it('refuses an expired token with 401 and reason expired', async () => {
      const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, ['acc-a'], -60);
      const refusal = await expectRefusal(messagesUrl(t.app, { token }));
      expect(refusal.status).toBe(401);
      expect(refusal.body.error).toMatchObject({
        code: 'HL_ERR_UNAUTHORIZED',
        details: { reason: 'expired' },
      });
    });

    it('refuses an Origin outside the allowlist with 403, even with a valid token', async () => {
      const token = await mintToken(t.app, ['acc-a']);
      const refusal = await expectRefusal(messagesUrl(t.app, { token }), {
        origin: 'https://evil.example.com',
      });
      expect(refusal.status).toBe(403);
      expect(refusal.body.error.code).toBe('HL_ERR_FORBIDDEN');
    });

    it('accepts a valid token from an allowed Origin and says hello with the latest seq', async () => {
      const latest = await appendEvents(t.app, [messageNew('acc-hello', 1)]);
      const token = await mintToken(t.app, ['acc-a']);
      await waitFor(async () => {
        const probe = await connectClient(messagesUrl(t.app, { token }), { origin: ALLOWED_ORIGIN });
        const hello = probe.frames[0];
        await probe.close();
        return hello?.type === 'hello' && hello.seq === latest;
      }, 'hello carries the latest seq');
    });

    it('accepts a valid token without an Origin header (a non-browser client)', async () => {
      const token = await mintToken(t.app, ['acc-a']);
      const client = await connectClient(messagesUrl(t.app, { token }));
      expect(client.frames[0]).toMatchObject({ type: 'hello' });
      expect(client.frames[0]?.reset).toBeUndefined();
      await client.close();
    });
  });

  it('refuses a malformed since with 400', async () => {
    const token = await mintToken(t.app, ['acc-a']);
    for (const since of ['-1', 'abc', '1.5']) {
      const refusal = await expectRefusal(messagesUrl(t.app, { token, since }));
      expect(refusal.status).toBe(400);
      expect(refusal.body.error.code).toBe('HL_ERR_INVALID_REQUEST');
    }
  });

  it('answers a plain GET with 426', async () => {
    const token = await mintToken(t.app, ['acc-a']);
    const response = await t.app.inject({ method: 'GET', url: `/ws/messages?token=${token}` });
    expect(response.statusCode).toBe(426);
    expect(response.json().error.code).toBe('HL_ERR_INVALID_REQUEST');
  });

  it('refuses connections beyond the per-token limit with 429, and frees the slot on close', async () => {
    const token = await mintToken(t.app, ['acc-limit']);
    const first = await connectClient(messagesUrl(t.app, { token }));
    const second = await connectClient(messagesUrl(t.app, { token }));
    const refusal = await expectRefusal(messagesUrl(t.app, { token }));
    expect(refusal.status).toBe(429);
    expect(refusal.body.error.code).toBe('HL_ERR_RATE_LIMITED');
    await first.close();
    const third = await waitFor(
      () => connectClient(messagesUrl(t.app, { token })).catch(() => undefined),
      'a slot frees up',
    );
    await Promise.all([second.close(), third.close()]);
  });

  it('delivers to a client of account A only the events of A', async () => {
    const clientA = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-a']) }));
    const clientB = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-b']) }));
    for (let n = 0; n < 10; n++) await appendEvents(t.app, [messageNew(n % 2 ? 'acc-a' : 'acc-b', n)]);
    const lastA = await appendEvents(t.app, [messageNew('acc-a', 99, 'last')]);
    const received = await clientA.waitForEvents(6);
    await clientB.waitForEvents(5);
    expect(received.at(-1)?.seq).toBe(lastA);
    expect(clientA.events().every((event) => event.data?.accountId === 'acc-a')).toBe(true);
    expect(clientB.events().every((event) => event.data?.accountId === 'acc-b')).toBe(true);
    expect(received[0]).toMatchObject({
      type: 'message:new',
      data: { accountId: 'acc-a', chatId: 'chat-acc-a', isSender: false, attachments: [] },
    });
    expect(new Date(received[0]!.ts!).toISOString()).toBe(received[0]!.ts);
    await Promise.all([clientA.close(), clientB.close()]);
  });

  it('delivers every account to an all-accounts dev token', async () => {
    const { token } = await mintDevRealtimeToken(TEST_SECRETS.realtimeJwtSecret, 600);
    const client = await connectClient(messagesUrl(t.app, { token }));
    await appendEvents(t.app, [messageNew('acc-x', 1), messageNew('acc-y', 2)]);
    const events = await client.waitForEvents(2);
    expect(events.map((event) => event.data?.accountId)).toEqual(['acc-x', 'acc-y']);
    await client.close();
  });

  it('answers a client {"type":"ping"} with {"type":"pong"}', async () => {
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-a']) }));
    client.socket.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => client.frames.some((frame) => frame.type === 'pong'), 'pong');
    await client.close();
  });

  it('closes with 4400 on an unknown client frame', async () => {
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-a']) }));
    client.socket.send(JSON.stringify({ type: 'subscribe', accountId: 'acc-b' }));
    expect(await client.closed).toBe(4400);
  });

  it('lets the upgrade request be collected while its socket stays open', async () => {
    // @fastify/websocket keeps the upgrade's request and response reachable from every socket
    // unless the route releases them: about 3 KB per connection (see releaseUpgradeObjects).
    let upgrade: WeakRef<IncomingMessage> | undefined;
    const capture = (request: IncomingMessage) => {
      upgrade ??= new WeakRef(request);
    };
    t.app.server.prependListener('upgrade', capture);
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-a']) }));
    t.app.server.off('upgrade', capture);

    const collectGarbage = exposedGc();
    await waitFor(() => {
      collectGarbage();
      return upgrade?.deref() === undefined;
    }, 'the upgrade request is collected');
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });

  it('closes with 1009 on a client frame above the size limit', async () => {
    const client = await connectClient(messagesUrl(t.app, { token: await mintToken(t.app, ['acc-a']) }));
    client.socket.send(JSON.stringify({ type: 'ping', padding: 'x'.repeat(300) }));
    expect(await client.closed).toBe(1009);
  });
});

describe.each(testDatabaseKinds())('GET /ws/messages with the default Origin policy on %s', (kind) => {
  const t = useTestApp(kind);

  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it("accepts the gateway's own origin and refuses any other with 403", async () => {
    const token = await mintToken(t.app, ['acc-a']);
    const url = messagesUrl(t.app, { token });
    const own = await connectClient(url, { origin: new URL(url).origin.replace('ws:', 'http:') });
    expect(own.frames[0]).toMatchObject({ type: 'hello' });
    await own.close();
    const refusal = await expectRefusal(url, { origin: 'http://localhost:1' });
    expect(refusal.status).toBe(403);
    expect(refusal.body.error.code).toBe('HL_ERR_FORBIDDEN');
  });
});
