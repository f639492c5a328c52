import { z } from 'zod';

/**
 * What Postgres can store, checked where input enters so that an unstorable value is a 400 and
 * never a database error (500). Postgres `text` and `jsonb` cannot hold U+0000, and a
 * `timestamptz` written from a JavaScript Date is refused unless its year has four digits
 * (`toISOString` turns year 0 into `0000-…` and others into `+275760-…` or `-000001-…`).
 */
const NUL = String.fromCharCode(0);

const FIRST_STORABLE_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** An unpaired UTF-16 surrogate: JSON can spell one (`"\ud800"`), jsonb refuses it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NUL_ALL = new RegExp(NUL, 'g');

/** `text` with U+0000 and unpaired surrogates replaced by U+FFFD, so Postgres can store it. */
export function storableText(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(NUL_ALL, '\uFFFD');
}

/** Largest message text Hookline stores, in UTF-8 bytes: what one webhook body may carry (1 MiB). */
export const MAX_STORED_TEXT_BYTES = 1024 * 1024;

/** Whether a (cleaned) message text is longer than {@link MAX_STORED_TEXT_BYTES}. */
export function textTooLarge(text: unknown): boolean {
  // A character is at most 3 UTF-8 bytes per UTF-16 unit: short texts need no count.
  if (typeof text !== 'string' || text.length * 3 <= MAX_STORED_TEXT_BYTES) return false;
  return Buffer.byteLength(text) > MAX_STORED_TEXT_BYTES;
}

/**
 * A JSON value with U+0000 and unpaired surrogates replaced in every string and key (see
 * {@link storableText}): the one cleaning webhook bodies, synced REST items and sends go through,
 * so a message cut in the middle of an emoji is stored instead of failing in Postgres. Recursive:
 * callers bound the depth (a parsed webhook is checked first; a REST item comes from JSON.parse).
 */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [storableText(key), storableJson(child)]),
  );
}

/** Whether `value` (a string, or any string inside arrays and objects) contains U+0000. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (current.includes(NUL)) return true;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes(NUL)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** Whether `date` is a valid time Postgres accepts from a JavaScript Date (years 1 to 9999, UTC). */
export function isStorableDate(date: Date): boolean {
  const time = date.getTime();
  return time >= FIRST_STORABLE_MS && time <= LAST_STORABLE_MS;
}

/** An ISO 8601 date-time (offset allowed when `offset`) that is also a storable time. */
export function storableDatetime(options: { offset?: boolean } = {}) {
  return z.iso.datetime(options).refine((value) => isStorableDate(new Date(value)), {
    error: 'expected a time between years 1 and 9999',
  });
}
