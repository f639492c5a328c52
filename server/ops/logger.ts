import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { redactUrl } from '../shared/redact.js';

/** Header and field paths that never reach a log line, whatever logs them. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["unipile-auth"]',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["unipile-auth"]',
  'headers["x-api-key"]',
  '*.secret',
  '*.apiKey',
  '*.token',
];

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
      err: (error: Error) => {
        const serialized = pino.stdSerializers.err(error);
        serialized.message = redactUrl(serialized.message);
        if (serialized.stack) serialized.stack = redactUrl(serialized.stack);
        return serialized;
      },
    },
  };
}

/** The process logger: JSON lines with credentials redacted. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const destination =
    config.format === 'pretty'
      ? pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
      : config.destination;
  return pino(loggerOptions(config.level), destination);
}
