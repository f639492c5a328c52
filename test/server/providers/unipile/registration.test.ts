import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../server/providers/unipile/registration.js';

describe('backoffDelay', () => {
  it('stays between half and all of the capped exponential delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, minMs, extra, random) => {
          const maxMs = minMs + extra;
          const ceiling = Math.min(maxMs, minMs * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, minMs, maxMs, () => random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(delay).toBeLessThanOrEqual(maxMs);
        },
      ),
    );
  });

  it('grows with the attempt until the cap', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(1, 100, 1000, top)).toBe(100);
    expect(backoffDelay(3, 100, 1000, top)).toBe(400);
    expect(backoffDelay(10, 100, 1000, top)).toBe(1000);
  });
});
