import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { describePostgres, requireTestDatabaseUrl } from '../support/databases.js';
import { crossAccountAttacks } from './hostile/cross-account.js';
import { type Gateway, startGateway } from './hostile/gateway.js';
import { ingestAttacks } from './hostile/ingest.js';
import { outboundAttacks } from './hostile/outbound.js';
import { readApiAttacks } from './hostile/read-api.js';
import { realtimeAttacks } from './hostile/realtime.js';
import { Tally } from './hostile/tally.js';
import { Target } from './hostile/target.js';
import { recordScenario } from './support/results.js';

/** A gateway that grew past this after the attacks kept something it should not have. */
const RSS_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Issue 8, hostile input: one real gateway process on its own Postgres database, attacked on every
 * public surface. Every answer must be the documented 4xx (with its HL_ERR_* code) or close code,
 * or 200 where the input is valid; never a 5xx, a crash, a leaked secret or another account's data.
 */
describePostgres('hostile input on every public surface', () => {
  let gateway: Gateway | undefined;
  let target: Target | undefined;
  const current = () => {
    if (!target) throw new Error('the gateway starts in beforeAll');
    return target;
  };

  beforeAll(async () => {
    gateway = await startGateway(requireTestDatabaseUrl());
    const { inbound, api, jwt, encryptionKey } = gateway.secrets;
    target = new Target(gateway, new Tally(gateway.url, [inbound, api, jwt, encryptionKey]));
    // A chat to page through, so cursors on its messages reach the decoder.
    const seed = messageReceived({ account: fakeAccount(), chatId: 'chat_seed' });
    await target.tally.http({
      method: 'POST',
      path: UNIPILE_WEBHOOK_PATH,
      headers: { 'unipile-auth': inbound },
      body: seed,
      status: 200,
    });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe('ingest', () => ingestAttacks(current));
  describe('read API', () => readApiAttacks(current));
  describe('realtime', () => realtimeAttacks(current));
  describe('accounts', () => crossAccountAttacks(current));
  describe('outbound endpoints', () => outboundAttacks(current));

  it('survives it all: alive, healthy, sane memory, no 5xx, no secret in answers or logs', async () => {
    const t = current();
    const { tally } = t;
    const health = await fetch(`${t.gateway.url}/healthz`);
    const rss = await t.gateway.rssBytes();
    const output = t.gateway.output();
    const logLeaks = output
      .split('\n')
      .filter((line) => tally.secretsIn(line).length > 0)
      .map((line) => `log: ${line.slice(0, 300)}`);
    const leaks = [...tally.leaks, ...logLeaks];
    const errorLines = output.split('\n').filter((line) => /"level":(50|60)/.test(line));
    await recordScenario({
      id: 'hostile-input',
      scenario:
        'Malformed, oversized, deeply nested, odd-unicode and SQL-looking input, forged and expired tokens, ' +
        'WebSocket floods and bad frames, header injection and SSRF, cross-account reads, against one gateway',
      sent: tally.sent,
      acknowledged: tally.acknowledged,
      stored: t.sqlStored,
      delivered: null,
      lost: 0,
      duplicated: 0,
      notes:
        `5xx: ${tally.serverErrors}; leaks: ${leaks.length}; error log lines: ${errorLines.length}; ` +
        `unexpected answers: ${tally.sent - tally.acknowledged}; RSS after: ${Math.round(rss / 1024 / 1024)} MiB; ` +
        `stored = SQL-looking messages found exactly once, each sent twice (retry deduped)`,
    });
    expect(t.gateway.child.exitCode).toBeNull();
    expect(health.status).toBe(200);
    expect(rss).toBeLessThan(RSS_LIMIT_BYTES);
    expect(tally.serverErrors).toBe(0);
    expect(leaks).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(tally.acknowledged).toBe(tally.sent);
  });
});
