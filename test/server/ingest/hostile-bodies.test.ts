import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountStatus,
  fakeAccount,
  followUp,
  messageReceived,
} from '../../../tools/fake-unipile/payloads.js';
import { useTestApp } from '../../support/app.js';
import { postWebhook } from '../../support/webhooks.js';

const base = messageReceived({ account: fakeAccount('LINKEDIN', 'acc_property') });
const seeds: Record<string, unknown>[] = [
  base,
  followUp('message_reaction', base),
  followUp('message_edited', base),
  accountStatus('acc_property', 'OK') as unknown as Record<string, unknown>,
];

/** Bodies a hostile or broken sender could produce: any JSON, any text, valid payloads mutated. */
const hostileBody = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(fc.constantFrom(...seeds), fc.string({ maxLength: 20 }), fc.jsonValue())
    .map(([seed, key, value]) => JSON.stringify({ ...seed, [key]: value })),
  fc
    .tuple(fc.constantFrom(...seeds), fc.constantFrom(...Object.keys(base)), fc.jsonValue())
    .map(([seed, key, value]) => JSON.stringify({ ...seed, [key]: value })),
  fc.constantFrom(
    '{"event":"message_received","account_id":"\'; drop table messages; --","chat_id":"c","message_id":"m"}',
    '{"event":"message_received","account_id":"a\\u0000b","chat_id":"c","message_id":"m"}',
    '{"event":"message_received","account_id":"\\ud800","chat_id":"c","message_id":"m"}',
    '\uFEFF{"event":"message_received"}',
  ),
);

describe('hostile webhook bodies (property)', () => {
  const t = useTestApp('postgres');

  it('no body ever yields a 5xx: every answer is 200 or a 4xx with a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const response = await postWebhook(t.app, body);
        if (response.statusCode === 200) return;
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(response.json().error.code).toMatch(/^HL_ERR_/);
      }),
      { numRuns: 300 },
    );
    const health = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(health.statusCode).toBe(200);
  });
});
