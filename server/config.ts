import { z } from 'zod';
import {
  booleanFlag,
  emptyAsUndefined,
  encryptionKey,
  httpUrl,
  integer,
  operatorSecret,
  optionalString,
  originList,
  postgresUrl,
  splitOrigins,
  trustProxySchema,
} from './config-fields.js';
import { HooklineError } from './errors.js';
import { redactUrl } from './shared/redact.js';

/**
 * The environment contract of docs/configuration.md, validated once at startup. This is the only module
 * that reads `process.env`; everything else receives a typed {@link Config}.
 */

const envSchema = z
  .object({
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
    /** Which proxies' forwarded headers give the client address (see `trustProxy`). Default false. */
    TRUST_PROXY: trustProxySchema,
    /** When set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>`. Default unset: open. */
    METRICS_TOKEN: operatorSecret,
    /**
     * Failed authentications one client address may make per AUTH_FAILURE_WINDOW_SECONDS, on every
     * authenticated surface together; beyond it failures answer 429 with Retry-After. Correct
     * credentials are never limited. Default 30.
     */
    AUTH_FAILURE_LIMIT: integer(30, 1, 1_000_000),
    /** The window of AUTH_FAILURE_LIMIT, in seconds. Default 60. */
    AUTH_FAILURE_WINDOW_SECONDS: integer(60, 1, 86_400),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    /** `pretty` for humans, `json` for log shippers; default pretty on a terminal, json otherwise. */
    LOG_FORMAT: z.preprocess(emptyAsUndefined, z.enum(['pretty', 'json']).optional()),
    SHUTDOWN_TIMEOUT_MS: integer(10_000, 100, 120_000),
    /** Longest a request may take to arrive, headers and body; then 408 and the connection closes. */
    HTTP_REQUEST_TIMEOUT_MS: integer(30_000, 100, 600_000),
    /** Longest a request's headers may take to arrive; at most HTTP_REQUEST_TIMEOUT_MS. */
    HTTP_HEADERS_TIMEOUT_MS: integer(10_000, 100, 600_000),
    /** How long an idle keep-alive connection is kept; above common load balancers' 60 s. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(72_000, 100, 600_000),
    // ingest (issue 3)
    /** Most webhooks committed in one transaction (group commit). */
    INGEST_MAX_BATCH: integer(200, 1, 5000),
    /** Most ingest transactions committing at once. */
    INGEST_CONCURRENCY: integer(2, 1, 32),
    /** Most webhooks waiting for a transaction; beyond it new ones get 503 and the provider retries. */
    INGEST_MAX_QUEUED: integer(20_000, 1, 1_000_000),
    /**
     * While another ingest transaction is committing, a new one waits for this many webhooks
     * (or INGEST_OVERLAP_MAX_WAIT_MS); 1 starts it at once.
     */
    INGEST_OVERLAP_MIN_BATCH: integer(25, 1, 5000),
    /** The longest a webhook waits for INGEST_OVERLAP_MIN_BATCH, in ms. */
    INGEST_OVERLAP_MAX_WAIT_MS: integer(2, 0, 1000),
    /** An identical account status within this many seconds of the current one is a duplicate. */
    INGEST_STATUS_DEDUPE_SECONDS: integer(600, 0, 86_400),

    // provider registration and ngrok tunnel (issue 4)
    /**
     * Names this gateway's webhooks `hookline:<instance>:<fingerprint>:<source>`, so two gateways
     * on one Unipile account (production and a laptop) never replace each other's. Default
     * `default`.
     */
    UNIPILE_WEBHOOK_INSTANCE: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, {
          error: 'expected 1-64 letters, digits, dots, dashes or underscores',
        })
        .default('default'),
    ),
    /** Delete our webhooks on graceful shutdown. Default false: a restart reuses them. */
    UNIPILE_DEREGISTER_ON_SHUTDOWN: booleanFlag(false),
    /** Longest one provider API call may take. Default 10000 ms. */
    UNIPILE_TIMEOUT_MS: integer(10_000, 100, 120_000),
    /** First registration retry delay; doubles per failure, with jitter. Default 1000 ms. */
    UNIPILE_RETRY_MIN_MS: integer(1000, 10, 600_000),
    /** Cap of the registration retry delay. Default 300000 ms (5 minutes). */
    UNIPILE_RETRY_MAX_MS: integer(300_000, 10, 3_600_000),
    /**
     * Seconds between checks that our webhooks are still in place once registered (one disabled
     * by the provider is recreated). Default 600; 0 checks only at startup.
     */
    UNIPILE_REGISTRATION_CHECK_SECONDS: integer(600, 0, 86_400),

    // realtime (issue 5)
    /**
     * Origins a browser may open `GET /ws/messages` from: comma-separated, exact
     * (`https://app.example.com`), or `*` for any. Default unset: only the gateway's own origin.
     * Requests without an Origin header (non-browser clients) are always allowed: the token guards them.
     */
    REALTIME_ALLOWED_ORIGINS: z.preprocess(emptyAsUndefined, z.string().transform(splitOrigins).optional()),
    /** Longest `ttlSeconds` `POST /api/realtime/tokens` accepts. Default 86400 (24 h). */
    REALTIME_TOKEN_MAX_TTL_SECONDS: integer(86_400, 60, 2_592_000),
    /** Protocol ping interval; a socket that has not answered the previous ping is terminated. Default 25000. */
    REALTIME_HEARTBEAT_INTERVAL_MS: integer(25_000, 50, 600_000),
    /** Largest client frame; a larger one closes the socket with 1009. Default 4096. */
    REALTIME_MAX_CLIENT_FRAME_BYTES: integer(4096, 64, 1_048_576),
    /** Unsent bytes one socket may hold before it is closed as a slow consumer (1013). Default 1 MiB. */
    REALTIME_MAX_BUFFERED_BYTES: integer(1_048_576, 1024, 268_435_456),
    /** Open sockets per connection token on one instance; more are refused with 429. Default 10. */
    REALTIME_MAX_CONNECTIONS_PER_TOKEN: integer(10, 1, 10_000),
    /** Unknown client frames tolerated per socket; the next one closes it with 4400. Default 0. */
    REALTIME_MAX_UNKNOWN_FRAMES: integer(0, 0, 1000),
    /** Client frames (pings included) one socket may send at once; beyond the burst and rate, 4429. */
    REALTIME_CLIENT_FRAME_BURST: integer(20, 1, 1_000_000),
    /** Client frames per second one socket may keep sending after its burst. */
    REALTIME_CLIENT_FRAME_RATE: integer(2, 1, 1_000_000),
    /** Fallback poll for new events, covering a lost NOTIFY. Default 5000. */
    REALTIME_POLL_INTERVAL_MS: integer(5000, 50, 3_600_000),
    /** Events older than this are pruned; a `since` before the kept window gets `reset`. Default 72. */
    REALTIME_RETENTION_HOURS: integer(72, 1, 8760),
    /** At most this many newest events are kept. Default 1000000. */
    REALTIME_RETENTION_COUNT: integer(1_000_000, 1, 1_000_000_000),
    /** How often retention pruning runs in the background. Default 60000. */
    REALTIME_PRUNE_INTERVAL_MS: integer(60_000, 50, 86_400_000),
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
    // sending through the provider (docs/sending.md)
    /** Run the send worker in this instance. Default true. */
    SEND_WORKER_ENABLED: booleanFlag(true),
    /** Sends in flight per instance. Default 16. */
    SEND_CONCURRENCY: integer(16, 1, 1000),
    /** How long one send request may take before it counts as `unknown`. Default 15000 ms. */
    SEND_TIMEOUT_MS: integer(15_000, 50, 120_000),
    /** How long a claimed send stays owned by its worker; must exceed the timeout. Default 60000 ms. */
    SEND_LEASE_MS: integer(60_000, 100, 3_600_000),
    /** Fallback claim round (lost NOTIFYs, retries and lookups coming due) and expired-attempt check. Default 1000 ms. */
    SEND_POLL_INTERVAL_MS: integer(1000, 10, 60_000),
    /** First retry delay after a 429 or a connection refused (doubles each time, up to 5 min). Default 1000 ms. */
    SEND_RETRY_MIN_MS: integer(1000, 10, 600_000),
    /** Attempts before a send that keeps being throttled or unreachable is `failed`. Default 8. */
    SEND_MAX_ATTEMPTS: integer(8, 1, 100),
    /** How long after an ambiguous attempt the chat's messages are looked up, if no echo settled it. Default 30000 ms. */
    SEND_LOOKUP_DELAY_MS: integer(30_000, 10, 3_600_000),
    /** An echo matches an open send with the same text created within this many seconds. Default 300. */
    SEND_ECHO_MATCH_SECONDS: integer(300, 1, 86_400),
    /** How long an `Idempotency-Key` replays its first answer. Default 24 hours. */
    SEND_IDEMPOTENCY_HOURS: integer(24, 1, 720),
    /** Largest attachment one send takes, in bytes (413 above). Default 15728640 (15 MiB). */
    SEND_ATTACHMENT_MAX_BYTES: integer(15 * 1024 * 1024, 1, 100 * 1024 * 1024),
    /** Most attachments one send takes (413 above); 0 refuses attachments. Default 10. */
    SEND_ATTACHMENT_MAX_FILES: integer(10, 0, 100),
    /** Largest total of one send's attachments, in bytes (413 above). Default 26214400 (25 MiB). */
    SEND_ATTACHMENTS_MAX_TOTAL_BYTES: integer(25 * 1024 * 1024, 1, 500 * 1024 * 1024),
    // catch-up sync from the provider's REST API (issue 19, docs/sync.md)
    /** Seconds between catch-up syncs of every account; 0 turns off the startup and periodic runs. Default 300. */
    UNIPILE_SYNC_INTERVAL_SECONDS: integer(300, 0, 86_400),
    /** How far back an account's first sync looks, in hours. Default 24. */
    UNIPILE_SYNC_LOOKBACK_HOURS: integer(24, 1, 8_760),
    /** How far before the watermark each sync starts again, in seconds. Default 600. */
    UNIPILE_SYNC_OVERLAP_SECONDS: integer(600, 0, 86_400),
    /** Messages asked per `GET /messages` page (the provider allows 1-250). Default 100. */
    UNIPILE_SYNC_PAGE_SIZE: integer(100, 1, 250),
    /** Longest session a connection token and its refreshed successors can belong to (s). */
    REALTIME_SESSION_MAX_SECONDS: integer(604_800, 60, 31_536_000),
    /** Length of an inbox login session (s), at most REALTIME_SESSION_MAX_SECONDS. */
    INBOX_SESSION_SECONDS: integer(43_200, 60, 31_536_000),
    /** Origins the inbox page may connect to besides its own (its CSP `connect-src`). */
    INBOX_CONNECT_ORIGINS: originList,
    /** Sends per minute: one session's, one account's (429 beyond). */
    SEND_RATE_PER_MINUTE: integer(60, 1, 1_000_000),
    SEND_ACCOUNT_RATE_PER_MINUTE: integer(300, 1, 1_000_000),
    /** Sends of one account waiting for the provider (429 beyond). */
    SEND_MAX_PENDING_PER_ACCOUNT: integer(1000, 1, 10_000_000),
    /** Multipart sends read at once on this instance (503 beyond). */
    SEND_MAX_UPLOADS_IN_FLIGHT: integer(8, 1, 10_000),
    /** Open TCP connections: in all, and per peer address (closed on arrival beyond). */
    HTTP_MAX_CONNECTIONS: integer(16_000, 1, 1_000_000),
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: integer(1000, 1, 1_000_000),
    /** Largest attachment `GET /api/messages/:id/attachments/:id` streams, in bytes (413 above). Default 52428800 (50 MiB). */
    ATTACHMENT_DOWNLOAD_MAX_BYTES: integer(50 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    /** Automatic resends of an ambiguous send whose lookup found no copy; then `failed` (`unconfirmed`). Default 1. */
    SEND_UNCONFIRMED_RESENDS: integer(1, 0, 10),
    /** Pages one sync run may read; past it the run fails (`too_many_pages`). Default 1000. */
    UNIPILE_SYNC_MAX_PAGES: integer(1000, 1, 1_000_000),
    /** Largest provider answer read, in bytes; a longer one is abandoned (`response_too_large`). Default 16 MiB. */
    UNIPILE_MAX_RESPONSE_BYTES: integer(16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  })
  .refine((env) => env.HTTP_HEADERS_TIMEOUT_MS <= env.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    error: 'expected at most HTTP_REQUEST_TIMEOUT_MS',
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
/** The name of one generated secret, as its environment variable. */
export type SecretName = (typeof GENERATED_SECRETS)[number];

/**
 * Variables whose values must never be echoed back, not even in a configuration error. DATABASE_URL
 * is one: a malformed connection string cannot be parsed reliably enough to mask its password.
 */
const SECRET_VARIABLES = new Set<string>([
  ...GENERATED_SECRETS,
  'DATABASE_URL',
  'UNIPILE_API_KEY',
  'NGROK_AUTHTOKEN',
  'METRICS_TOKEN',
]);

/**
 * How an invalid value is echoed: URLs may carry credentials, so those are masked, and a value
 * with an `@` the masking could not place is not echoed at all.
 */
function echoed(value: string): string {
  const shown = redactUrl(value);
  if (shown.replaceAll('[redacted]@', '').includes('@')) return '';
  return ` (got ${JSON.stringify(shown)})`;
}

/**
 * Validates an environment object. Throws one {@link HooklineError} `HL_ERR_CONFIG` whose message
 * names every invalid variable and what is wrong with it, never a secret's value nor a URL's
 * credentials.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = env[name];
    const shown = given === undefined || SECRET_VARIABLES.has(name) ? '' : echoed(given);
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
