import { z } from 'zod';
import { HooklineError } from './errors.js';

/**
 * The environment contract of DESIGN.md, validated once at startup. This is the only module
 * that reads `process.env`; everything else receives a typed {@link Config}.
 */

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

const booleanFlag = (defaultValue: boolean) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
      .default(defaultValue ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  );

const integer = (defaultValue: number, min: number, max: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'expected a whole number' })
      .int({ error: 'expected a whole number' })
      .min(min, { error: `expected at least ${min}` })
      .max(max, { error: `expected at most ${max}` })
      .default(defaultValue),
  );

const httpUrl = z.preprocess(
  emptyAsUndefined,
  z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://hooks.example.com' })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
);

const postgresUrl = z.preprocess(
  emptyAsUndefined,
  z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// connection string' }).optional(),
);

/** A secret given by the operator must be long enough to resist guessing. */
const operatorSecret = z.preprocess(
  emptyAsUndefined,
  z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
);

const encryptionKey = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
      error: 'expected 32 bytes as 64 hex characters or 44 base64 characters',
    })
    .optional(),
);

const envSchema = z.object({
  PORT: integer(3000, 0, 65535),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: integer(10, 1, 200),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  WEBHOOK_BASE_URL: httpUrl,
  UNIPILE_DSN: optionalString,
  UNIPILE_API_KEY: optionalString,
  INBOUND_SECRET: operatorSecret,
  API_TOKEN: operatorSecret,
  REALTIME_JWT_SECRET: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
  ),
  ENCRYPTION_KEY: encryptionKey,
  NGROK_AUTHTOKEN: optionalString,
  ALLOW_PRIVATE_ENDPOINTS: booleanFlag(false),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** `pretty` for humans, `json` for log shippers; default pretty on a terminal, json otherwise. */
  LOG_FORMAT: z.preprocess(emptyAsUndefined, z.enum(['pretty', 'json']).optional()),
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 100, 120_000),
  // outbound webhooks (issue 7)
  /** Run the delivery worker in this instance. Default true. */
  OUTBOUND_WORKER_ENABLED: booleanFlag(true),
  /** Most endpoints that may exist at once. Default 100. */
  OUTBOUND_MAX_ENDPOINTS: integer(100, 1, 100_000),
  /** Attempt budget of an endpoint created without `maxAttempts`. Default 8 (the first try and 7 retries). */
  OUTBOUND_MAX_ATTEMPTS: integer(8, 1, 100),
  /** Delays between attempts, comma-separated durations (`ms`, `s`, `m`, `h`); the last one repeats. */
  OUTBOUND_RETRY_SCHEDULE: z.preprocess(emptyAsUndefined, z.string().default('5s,5m,30m,2h,5h,10h,10h')),
  /** How long one delivery request may take, connection included. Default 15000 ms. */
  OUTBOUND_TIMEOUT_MS: integer(15_000, 50, 120_000),
  /** How long a claimed delivery stays owned by its worker; must exceed the timeout. Default 60000 ms. */
  OUTBOUND_LEASE_MS: integer(60_000, 100, 3_600_000),
  /** Polling fallback for lost NOTIFYs and due retries. Default 1000 ms. */
  OUTBOUND_POLL_INTERVAL_MS: integer(1000, 10, 60_000),
  /** Requests in flight per instance, all endpoints together. Default 64. */
  OUTBOUND_CONCURRENCY: integer(64, 1, 10_000),
  /** Requests in flight per instance to any one endpoint. Default 8. */
  OUTBOUND_ENDPOINT_CONCURRENCY: integer(8, 1, 1000),
  /** How long a rotated-out secret keeps signing beside the new one. Default 86400000 ms (24 h). */
  OUTBOUND_SECRET_OVERLAP_MS: integer(86_400_000, 0, 30 * 86_400_000),
  /** An endpoint whose every attempt failed for this long is disabled. Default 432000000 ms (5 days). */
  OUTBOUND_DISABLE_AFTER_MS: integer(5 * 86_400_000, 1000, 365 * 86_400_000),
});

/** The validated environment; secrets may still be missing here (see `resolveSecrets`). */
export type Config = z.output<typeof envSchema>;

/** Names of the secrets that are generated into DATA_DIR when the operator does not set them. */
export const GENERATED_SECRETS = [
  'INBOUND_SECRET',
  'API_TOKEN',
  'REALTIME_JWT_SECRET',
  'ENCRYPTION_KEY',
] as const;
export type SecretName = (typeof GENERATED_SECRETS)[number];

/** Variables whose values must never be echoed back, not even in a configuration error. */
const SECRET_VARIABLES = new Set<string>([...GENERATED_SECRETS, 'UNIPILE_API_KEY', 'NGROK_AUTHTOKEN']);

/**
 * Validates an environment object. Throws one {@link HooklineError} `HL_ERR_CONFIG` whose message
 * names every invalid variable and what is wrong with it, never a secret's value.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = env[name];
    const shown = given === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(given)})`;
    return `${name}: ${issue.message}${shown}`;
  });
  throw new HooklineError('HL_ERR_CONFIG', `Invalid configuration: ${problems.join('; ')}`, {
    details: { variables: result.error.issues.map((issue) => String(issue.path[0])) },
  });
}

/** Reads and validates `process.env`: the one place in Hookline that touches the environment. */
export function readConfigFromEnv(): Config {
  return parseConfig(process.env);
}
