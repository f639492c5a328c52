import { describe, expect, it } from 'vitest';
import { errorChain, hasSqlState } from '../../../server/db/error-chain.js';

const wrapped = (code: string, depth: number): Error => {
  let error: Error = Object.assign(new Error('driver'), { code });
  for (let level = 0; level < depth; level++) error = new Error(`wrapper ${level}`, { cause: error });
  return error;
};

describe('errorChain and hasSqlState', () => {
  it('finds a SQLSTATE where drizzle puts it: on a cause of the error thrown', () => {
    expect(hasSqlState(wrapped('40P01', 0), new Set(['40P01']))).toBe(true);
    expect(hasSqlState(wrapped('40P01', 2), new Set(['40001', '40P01']))).toBe(true);
    expect(hasSqlState(wrapped('23505', 2), new Set(['40P01']))).toBe(false);
  });

  it('follows at most five links, so a cyclic chain cannot hang it', () => {
    const cyclic: Error & { cause?: unknown } = new Error('loop');
    cyclic.cause = cyclic;
    expect([...errorChain(cyclic)]).toHaveLength(5);
    expect(hasSqlState(wrapped('40P01', 5), new Set(['40P01']))).toBe(false);
  });

  it('accepts anything thrown, not only errors', () => {
    expect([...errorChain(undefined)]).toEqual([]);
    expect(hasSqlState('a string', new Set(['40P01']))).toBe(false);
  });
});
