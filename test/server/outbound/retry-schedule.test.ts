import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HooklineError } from '../../../server/errors.js';
import {
  parseRetryAfter,
  parseRetrySchedule,
  RETRY_JITTER,
  retryDelayMs,
} from '../../../server/outbound/retry-schedule.js';

const DEFAULT = '5s,5m,30m,2h,5h,10h,10h';

describe('retry schedule', () => {
  it('parses the default schedule into milliseconds', () => {
    expect(parseRetrySchedule(DEFAULT)).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(parseRetrySchedule('50ms, 1.5s')).toEqual([50, 1500]);
  });

  it.each(['', '5', '5x', '5s,,5m', '-1s'])('rejects %j with HL_ERR_CONFIG', (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(HooklineError);
    try {
      parseRetrySchedule(text);
    } catch (error) {
      expect((error as HooklineError).code).toBe('HL_ERR_CONFIG');
    }
  });

  it('uses the entry for the attempt just made, the last entry repeating, without jitter at random 0.5', () => {
    const schedule = parseRetrySchedule(DEFAULT);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => retryDelayMs(schedule, attempt, 0.5))).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 36_000_000, 36_000_000,
    ]);
  });

  it('jitters every delay within ±20% of its entry', () => {
    const schedule = parseRetrySchedule(DEFAULT);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, random) => {
          const base = schedule[Math.min(attempt - 1, schedule.length - 1)]!;
          const delay = retryDelayMs(schedule, attempt, random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - RETRY_JITTER)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + RETRY_JITTER)));
        },
      ),
    );
    expect(retryDelayMs(schedule, 1, 0)).toBe(4000);
    expect(retryDelayMs(schedule, 1, 0.999_999)).toBe(6000);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');

  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
  });

  it('ignores absent or unreadable values, clamps past dates to 0 and caps at 24 h', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
  });
});
