import { isIP } from 'node:net';
import { z } from 'zod';

// Field builders of the environment schema (server/config.ts): each reads one string variable.

/** An empty variable (`FOO=`) counts as unset, so its default applies. */
export const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

/** Any text; unset when empty. */
export const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

/** `true`/`false` (also `1`/`0`, `yes`/`no`), with the given default. */
export const booleanFlag = (defaultValue: boolean) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
      .default(defaultValue ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  );

/** A whole number within `min`..`max`, with the given default. */
export const integer = (defaultValue: number, min: number, max: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'expected a whole number' })
      .int({ error: 'expected a whole number' })
      .min(min, { error: `expected at least ${min}` })
      .max(max, { error: `expected at most ${max}` })
      .default(defaultValue),
  );

/** An http(s) base URL, trailing slashes removed; unset when empty. */
export const httpUrl = z.preprocess(
  emptyAsUndefined,
  z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://hooks.example.com' })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
);

/** A `postgres://` connection string; unset when empty. */
export const postgresUrl = z.preprocess(
  emptyAsUndefined,
  z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// connection string' }).optional(),
);

/** A secret given by the operator must be long enough to resist guessing. */
export const operatorSecret = z.preprocess(
  emptyAsUndefined,
  z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
);

/** 32 bytes as 64 hex or 44 base64 characters; unset when empty (one is generated). */
export const encryptionKey = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
      error: 'expected 32 bytes as 64 hex characters or 44 base64 characters',
    })
    .optional(),
);

/** The origins of a comma-separated list, trimmed, trailing slashes removed, empty ones dropped. */
export function splitOrigins(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

/**
 * Comma-separated http(s) or ws(s) origins (`https://app.example.com,wss://ws.example.com`),
 * trailing slashes removed; unset when empty.
 */
export const originList = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .transform(splitOrigins)
    .pipe(
      z.array(
        z.string().regex(/^(https?|wss?):\/\/[^\s;,']+$/, {
          error: 'expected origins such as https://gateway.example.com or wss://ws.example.com',
        }),
      ),
    )
    .optional(),
);

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY lists beside IPs and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether one TRUST_PROXY list entry is an IP, a CIDR or a proxy-addr range name. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits;
}

/**
 * fastify's `trustProxy` forms: `true`/`false`, a number of proxy hops, or a comma-separated list
 * of proxy addresses (IPs, CIDRs, `loopback`, `linklocal`, `uniquelocal`). Unset: false, the
 * client address is the socket's and forwarded headers are ignored.
 */
export const trustProxySchema = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default('false')
    .transform((value, context): boolean | number | string[] => {
      const trimmed = value.trim();
      if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
      if (/^\d+$/.test(trimmed)) return Number(trimmed);
      const entries = trimmed.split(',').map((entry) => entry.trim());
      const invalid = entries.filter((entry) => !isProxyAddress(entry));
      if (invalid.length > 0) {
        context.addIssue({
          code: 'custom',
          message: `expected true, false, a hop count or a comma-separated list of IPs/CIDRs (not ${invalid.join(', ')})`,
        });
        return z.NEVER;
      }
      return entries;
    }),
);

/** A parsed TRUST_PROXY. */
export type TrustProxy = z.output<typeof trustProxySchema>;
