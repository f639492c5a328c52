import { hash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => hash('sha256', value, 'buffer');

/**
 * A constant-time check of presented credentials against one expected secret. Hashing both sides
 * gives equal-length inputs, so neither the content nor the length of the secret leaks; the
 * secret's digest is computed once, not on every request (the webhook route checks one per
 * webhook).
 */
export function secretMatcher(expected: string): (presented: string) => boolean {
  const expectedDigest = digest(expected);
  return (presented) => timingSafeEqual(digest(presented), expectedDigest);
}
