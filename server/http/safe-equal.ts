import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented credential with the expected one in constant time. Hashing both first
 * gives equal-length inputs, so neither the content nor the length of the secret leaks.
 */
export function safeEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
