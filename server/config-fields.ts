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
