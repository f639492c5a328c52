import fc from 'fast-check';
import { expect, it } from 'vitest';
import { attempt, closeCode, type OpenSocket } from './sockets.js';
import type { Target } from './target.js';
import { forgedTokens, forgeToken, mintToken } from './tokens.js';

const ACCEPTED = { status: 101 };
const UNAUTHORIZED = { status: 401, code: 'HL_ERR_UNAUTHORIZED' };
const INVALID = { status: 400, code: 'HL_ERR_INVALID_REQUEST' };

/** Attacks on `POST /api/realtime/tokens` and `GET /ws/messages`. */
export function realtimeAttacks(target: () => Target): void {
  it('refuses bad token requests with 400 and non-API credentials with 401', async () => {
    const t = target();
    const bodies: unknown[] = [
      {},
      { accountIds: [] },
      { accountIds: 'acc' },
      { accountIds: [''] },
      { accountIds: ['  '] },
      { accountIds: [1] },
      { accountIds: ['a'.repeat(201)] },
      { accountIds: Array.from({ length: 101 }, (_, index) => `acc_${index}`) },
      { accountIds: ['a'], ttlSeconds: 59 },
      { accountIds: ['a'], ttlSeconds: 86_401 },
      { accountIds: ['a'], ttlSeconds: -1 },
      { accountIds: ['a'], ttlSeconds: 1.5 },
      { accountIds: ['a'], ttlSeconds: '600' },
      { accountIds: ['a'], all: true },
      { accountIds: ['a\u0000'] },
    ];
    for (const body of bodies) {
      await t.tally.http({ path: '/api/realtime/tokens', headers: t.apiAuth, body, ...INVALID });
    }
    for (const raw of [
      '{',
      '{"accountIds":["a"],"ttlSeconds":1e400}',
      '{"__proto__":{"all":true},"accountIds":["a"]}',
    ]) {
      await t.tally.http({
        path: '/api/realtime/tokens',
        headers: { ...t.apiAuth, 'content-type': 'application/json' },
        body: raw,
        status: 400,
        code: ['HL_ERR_INVALID_JSON', 'HL_ERR_INVALID_REQUEST'],
      });
    }
    const token = await mintToken(t, ['acc_rt']);
    for (const authorization of [`Bearer ${token}`, `Bearer ${t.gateway.secrets.inbound}`, '']) {
      await t.tally.http({
        path: '/api/realtime/tokens',
        headers: { authorization },
        body: { accountIds: ['b'] },
        ...UNAUTHORIZED,
      });
    }
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
        const answer = await t.tally.http({
          path: '/api/realtime/tokens',
          headers: { ...t.apiAuth, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          status: [200, 400],
        });
        return answer.status === 200 || answer.status === 400;
      }),
      { numRuns: 100 },
    );
    t.expectClean();
  });

  it('refuses forged, expired and missing tokens, bad since and bad Origin before the upgrade', async () => {
    const t = target();
    const token = await mintToken(t, ['acc_rt']);
    await attempt(t, 'no token', '', UNAUTHORIZED);
    await attempt(t, 'empty token', '?token=', UNAUTHORIZED);
    for (const [name, forged] of Object.entries(await forgedTokens(t.gateway.secrets.jwt, token))) {
      await attempt(t, `token ${name}`, `?token=${encodeURIComponent(forged)}`, UNAUTHORIZED);
    }
    await attempt(t, 'API token as token', `?token=${t.gateway.secrets.api}`, UNAUTHORIZED);
    for (const since of ['-1', 'abc', '1.5', '1e3', '9'.repeat(16), '%00', '0x10', '']) {
      await attempt(t, `since ${since}`, `?token=${token}&since=${since}`, INVALID);
    }
    const own = new URL(t.gateway.url).origin;
    for (const origin of [
      'https://evil.example',
      'null',
      `${own}.evil.example`,
      'garbage',
      `${own}@evil.example`,
    ]) {
      await attempt(
        t,
        `origin ${origin}`,
        `?token=${token}`,
        { status: 403, code: 'HL_ERR_FORBIDDEN' },
        { origin },
      );
    }
    const accepted = await attempt(t, 'own origin', `?token=${token}&since=0`, ACCEPTED, { origin: own });
    accepted?.socket.close();
    await t.tally.http({ path: `/ws/messages?token=${token}`, status: 426, code: 'HL_ERR_INVALID_REQUEST' });
    t.expectClean();
  });

  it('caps a connection flood on one token at its limit with 429', async () => {
    const t = target();
    const token = await mintToken(t, ['acc_flood']);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        attempt(t, `flood ${index}`, `?token=${token}`, { status: [101, 429], code: 'HL_ERR_RATE_LIMITED' }),
      ),
    );
    const open = results.filter((socket): socket is OpenSocket => socket !== undefined);
    expect(open).toHaveLength(10);
    for (const socket of open) socket.socket.close();
    await Promise.all(open.map((socket) => socket.closed));
    t.expectClean();
  });

  it('closes a flood of thousands of pings with 4429, and bad frames with the documented codes', async () => {
    const t = target();
    const connectFresh = async () => {
      const socket = await attempt(
        t,
        'frame socket',
        `?token=${await mintToken(t, ['acc_frames'])}`,
        ACCEPTED,
      );
      if (!socket) throw new Error('the frame socket was refused');
      return socket;
    };
    const pinged = await connectFresh();
    const PINGS = 5000;
    for (let index = 0; index < PINGS; index++) pinged.socket.send('{"type":"ping"}');
    // The burst is answered; the first ping beyond the rate limit closes the socket.
    const flooded = await closeCode(pinged);
    const pongs = pinged.frames.filter((frame) => frame.type === 'pong').length;
    t.tally.recordFrames(PINGS, flooded === 4429 ? PINGS : 0);
    expect(flooded).toBe(4429);
    expect(pongs).toBeGreaterThan(0);
    expect(pongs).toBeLessThan(PINGS);

    const spam = Array.from({ length: 2000 }, (_, index) => `{"type":"spam","n":${index}}`);
    const cases: [string, (string | Buffer)[], number][] = [
      ['binary frame', [Buffer.from([1, 2, 3])], 4400],
      ['invalid JSON', ['{"type":'], 4400],
      ['unknown type', ['{"type":"subscribe","accountIds":["*"]}'], 4400],
      ['a ping inside an array', ['[{"type":"ping"}]'], 4400],
      ['4 KiB + 1 frame', ['x'.repeat(4097)], 1009],
      ['8 MiB frame', [Buffer.alloc(8 * 1024 * 1024, 'x')], 1009],
      ['2,000 unknown frames at once', spam, 4400],
    ];
    for (const [name, frames, expected] of cases) {
      const socket = await connectFresh();
      for (const frame of frames) socket.socket.send(frame, { binary: Buffer.isBuffer(frame) });
      const code = await closeCode(socket);
      t.tally.recordFrames(frames.length, code === expected ? frames.length : 0);
      expect(code, name).toBe(expected);
    }
    t.expectClean();
  });

  it('closes a socket whose token expires while connected with 4001', async () => {
    const t = target();
    const token = await forgeToken({
      secret: t.gateway.secrets.jwt,
      claims: { acc: ['acc_expiry'] },
      expiresIn: 2,
    });
    const socket = await attempt(t, 'short-lived token', `?token=${token}`, ACCEPTED);
    expect(socket && (await closeCode(socket, 10_000))).toBe(4001);
    t.expectClean();
  });
}
