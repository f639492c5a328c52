import { HooklineError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `5s,5m,30m,2h` into milliseconds; throws HL_ERR_CONFIG naming the bad entry. */
export function parseRetrySchedule(text: string): number[] {
  const delays = text.split(',').map((entry) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(entry);
    if (!match) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `OUTBOUND_RETRY_SCHEDULE: ${JSON.stringify(entry)} is not a duration such as 500ms, 5s, 5m, 2h`,
      );
    }
    return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
  });
  return delays;
}

/** Share of a delay added or removed at random, so endpoints recovering together are not stampeded. */
export const RETRY_JITTER = 0.2;

/**
 * Delay before the attempt that follows attempt number `attemptsMade` (1-based): the schedule's
 * entry (its last one repeating), varied by ±{@link RETRY_JITTER}.
 *
 * @param random a number in [0, 1); injected so tests are deterministic.
 */
export function retryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random: number = Math.random(),
): number {
  const index = Math.min(Math.max(attemptsMade - 1, 0), schedule.length - 1);
  const base = schedule[index] ?? 0;
  return Math.round(base * (1 + RETRY_JITTER * (2 * random - 1)));
}

/** Longest wait a `Retry-After` may impose, so a bad header cannot park a delivery for years. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * The wait a `Retry-After` header asks for, in ms (seconds or an HTTP date), or undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const waitMs = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(waitMs)) return undefined;
  return Math.min(Math.max(waitMs, 0), MAX_RETRY_AFTER_MS);
}
