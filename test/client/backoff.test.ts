import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../client/backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially from 0.5 s and is capped at 30 s', () => {
    const upper = (attempt: number) => backoffDelay(attempt, { random: () => 0.999999 });
    expect([1, 2, 3, 4].map(upper)).toEqual([500, 1000, 2000, 4000]);
    expect(upper(20)).toBe(30_000);
  });

  it('draws a new random term on every attempt (no lockstep across clients)', () => {
    const values = [0.1, 0.9, 0.5];
    let call = 0;
    const random = () => values[call++ % values.length]!;
    const delays = [3, 3, 3].map((attempt) => backoffDelay(attempt, { random }));
    expect(new Set(delays).size).toBe(3);
  });

  it('always stays within [step/2, step] and never above the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const step = Math.min(30_000, 500 * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, { random: () => r });
          expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(delay).toBeLessThanOrEqual(step);
        },
      ),
    );
  });

  it('stays between half and all of the capped exponential delay for any bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, minDelayMs, extra, random) => {
          const maxDelayMs = minDelayMs + extra;
          const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, { minDelayMs, maxDelayMs, random: () => random });
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(delay).toBeLessThanOrEqual(maxDelayMs);
        },
      ),
    );
  });

  it('grows with the attempt until a custom cap', () => {
    const top = () => 0.999_999;
    const bounds = { minDelayMs: 100, maxDelayMs: 1000, random: top };
    expect(backoffDelay(1, bounds)).toBe(100);
    expect(backoffDelay(3, bounds)).toBe(400);
    expect(backoffDelay(10, bounds)).toBe(1000);
  });
});
