import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { PROVIDER_WEBHOOKS } from '../providers/index.js';
import { redactUrl } from '../shared/redact.js';

/** Headers that carry credentials: ours, and each provider's webhook secret header. */
const SECRET_HEADERS = [
  'authorization',
  'x-api-key',
  'cookie',
  ...PROVIDER_WEBHOOKS.map((webhook) => webhook.authHeader.toLowerCase()),
];

/** Header and field paths that never reach a log line, whatever logs them. */
export const REDACTED_PATHS = [
  ...SECRET_HEADERS.flatMap((name) => [`req.headers["${name}"]`, `headers["${name}"]`]),
  '*.secret',
  '*.apiKey',
  '*.token',
];

/** How the app logs (LOG_LEVEL, LOG_FORMAT). */
export interface LoggerConfig {
  /** pino level. Default `info`. */
  level?: string;
  /** `pretty` (colourised, for a terminal) or `json`. Default `json`. */
  format?: 'pretty' | 'json';
  /** Where lines go. Default standard output. */
  destination?: DestinationStream;
}

/** pino options: the level, redacted header paths, and serializers that mask URL credentials. */
export function loggerOptions(level = 'info'): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
      // Driver and network errors may quote a connection string: URL credentials are masked.
      // A failed query's parameters hold message bodies and texts: they never reach a log line.
      err: (error: Error) => {
        const serialized = withoutQueryParams(pino.stdSerializers.err(error));
        serialized.message = redactUrl(serialized.message);
        if (serialized.stack) serialized.stack = redactUrl(serialized.stack);
        return serialized;
      },
    },
  };
}

/** Where drizzle's "Failed query: …\nparams: …" message starts quoting the parameters. */
const PARAMS_LINE = /\nparams: [\s\S]*?(?=\n {4}at |$)/;

type SerializedError = ReturnType<typeof pino.stdSerializers.err>;

/**
 * A serialized error without the parameters of a failed query (drizzle's `params` field and the
 * `params:` line of its message and stack, at any depth of `cause`): they are the values written,
 * message texts and raw bodies included, and a log line must hold neither.
 */
function withoutQueryParams(serialized: SerializedError): SerializedError {
  const record = serialized as SerializedError & { params?: unknown; cause?: unknown };
  delete record.params;
  record.message = record.message.replace(PARAMS_LINE, '\nparams: [not logged]');
  if (record.stack) record.stack = record.stack.replace(PARAMS_LINE, '\nparams: [not logged]');
  if (record.cause && typeof record.cause === 'object') withoutQueryParams(record.cause as SerializedError);
  return serialized;
}

/** The process logger: JSON lines with credentials redacted. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const destination =
    config.format === 'pretty'
      ? pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
      : config.destination;
  return pino(loggerOptions(config.level), destination);
}
