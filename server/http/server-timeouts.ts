import type { ServerOptions } from 'node:http';
import type { Config } from '../config.js';

/**
 * The HTTP server's timeouts, set deliberately rather than left to fastify's defaults (which never
 * time out a request body, so one client could hold a connection and its buffers forever):
 *
 * - `requestTimeout`: the whole request, headers and body, must arrive within
 *   HTTP_REQUEST_TIMEOUT_MS (default 30 s); then Node answers 408 and closes the connection.
 *   It bounds receiving only: a slow handler is not cut.
 * - `headersTimeout`: the headers within HTTP_HEADERS_TIMEOUT_MS (default 10 s).
 * - `keepAliveTimeout`: an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS
 *   (default 72 s, longer than the 60 s idle timeout of common load balancers, so the balancer,
 *   not Hookline, closes first and never reuses a connection Hookline is closing).
 * - `connectionsCheckingInterval`: how often Node looks for expired requests; Node's default of
 *   30 s would let a 10 s headers timeout run to 40 s. A tenth of the headers timeout, at most 1 s.
 */
export function httpServerTimeouts(
  config: Pick<Config, 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'>,
): { requestTimeout: number; keepAliveTimeout: number; http: ServerOptions } {
  const timeouts = {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  };
  return {
    ...timeouts,
    http: {
      ...timeouts,
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 10)),
      ),
    },
  };
}
