import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secretMatcher } from '../../../server/http/safe-equal.js';

describe('secretMatcher', () => {
  const matches = secretMatcher('s3cret-value');

  it('accepts exactly the expected secret', () => {
    expect(matches('s3cret-value')).toBe(true);
    expect(matches('s3cret-valuE')).toBe(false);
    expect(matches('s3cret-value ')).toBe(false);
    expect(matches('s3cret')).toBe(false);
    expect(matches('')).toBe(false);
  });

  it('refuses every other string, whatever its length or content', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (presented) => {
        expect(matches(presented)).toBe(presented === 's3cret-value');
      }),
    );
  });
});
