import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HooklineError } from '../../../server/errors.js';
import { decryptSecret, encryptSecret } from '../../../server/outbound/secret-box.js';

describe('endpoint secrets at rest (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it('round-trips and never stores the plaintext', () => {
    const stored = encryptSecret(secret, key);
    expect(stored).not.toContain('MfKQ9r8');
    expect(decryptSecret(stored, key)).toBe(secret);
    expect(encryptSecret(secret, key)).not.toBe(stored);
  });

  it.each([
    ['a different key', (stored: string) => ({ stored, key: randomBytes(32) })],
    ['a tampered ciphertext', (stored: string) => ({ stored: `${stored.slice(0, -2)}AA`, key })],
    ['an unknown format', (stored: string) => ({ stored: stored.replace(/^v1/, 'v9'), key })],
  ])('refuses %s with HL_ERR_INTERNAL, without echoing the value', (_name, change) => {
    const { stored, key: otherKey } = change(encryptSecret(secret, key));
    let caught: HooklineError | undefined;
    try {
      decryptSecret(stored, otherKey);
    } catch (error) {
      caught = error as HooklineError;
    }
    expect(caught?.code).toBe('HL_ERR_INTERNAL');
    expect(caught?.message).not.toContain(secret);
  });
});
