import { z } from 'zod';

/** RFC 9110 token characters: anything else in a name could smuggle a header or break framing. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab (and obs-text): CR, LF and NUL would inject headers. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers Hookline sets or that control the connection: a subscriber's config may not change them. */
const RESERVED = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'user-agent',
]);

/** Whether Hookline sets `name` itself (or it controls the connection): no endpoint setting may. */
export function isReserved(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || lower.startsWith('webhook-') || lower.startsWith('proxy-');
}

/** Most custom headers per endpoint. */
const MAX_HEADERS = 20;

/** Custom headers sent with every delivery to an endpoint, validated against injection and override. */
export const customHeadersSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(100)
      .regex(HEADER_NAME, { error: 'header names may contain only RFC 9110 token characters' })
      .refine((name) => !isReserved(name), {
        error: 'this header is set by Hookline and cannot be overridden',
      }),
    z
      .string()
      .max(2000)
      .regex(HEADER_VALUE, { error: 'header values may not contain CR, LF or control characters' }),
  )
  .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, {
    error: `at most ${MAX_HEADERS} custom headers`,
  })
  .refine(
    (headers) =>
      new Set(Object.keys(headers).map((name) => name.toLowerCase())).size === Object.keys(headers).length,
    {
      error: 'header names must be unique regardless of case',
    },
  );
