import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay as clientBackoffDelay } from '../../../client/backoff.js';
import { backoffDelay } from '../../../server/shared/backoff.js';

describe('server backoffDelay', () => {
  // The client package ships alone and keeps its own copy (client/backoff.ts): one formula, two files.
  it('gives the same delay as the client copy for any attempt, options and random draw (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.record(
          {
            minDelayMs: fc.integer({ min: 1, max: 10_000 }),
            maxDelayMs: fc.integer({ min: 1, max: 600_000 }),
            factor: fc.double({ min: 1, max: 4, noNaN: true }),
          },
          { requiredKeys: [] },
        ),
        (attempt, r, options) => {
          const random = () => r;
          expect(backoffDelay(attempt, { ...options, random })).toBe(
            clientBackoffDelay(attempt, { ...options, random }),
          );
        },
      ),
    );
  });
});
