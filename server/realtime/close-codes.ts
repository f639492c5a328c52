import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';

/**
 * Every way Hookline ends a realtime socket, in one place (docs/realtime.md, "Close codes").
 * Refusals before the upgrade are plain HTTP errors instead (see the same page): 400 bad `since`,
 * 401 missing/forged/expired token or revoked session, 403 Origin not allowed, 426 not a WebSocket request,
 * 429 too many connections for one session, 503 shutting down.
 */
export const CLOSE_CODES = {
  /** The server is shutting down: reconnect (to another instance) with `since`. */
  shutdown: { code: 1001, reason: 'server shutting down' },
  /** A client frame larger than the limit (ws sends this itself; listed for completeness). */
  frameTooLarge: { code: 1009, reason: 'frame too large' },
  /** Replay failed (the database is unavailable): reconnect with backoff and `since`. */
  internalError: { code: 1011, reason: 'internal error' },
  /** The socket did not read fast enough: reconnect with `since` to resume. */
  slowConsumer: { code: 1013, reason: 'slow consumer' },
  /** The connection token expired while connected: mint a new one and reconnect with `since`. */
  tokenExpired: { code: 4001, reason: 'token expired' },
  /** The token's session was revoked (DELETE /api/realtime/sessions/:id): do not reconnect with it. */
  sessionRevoked: { code: 4003, reason: 'session revoked' },
  /** More unknown or malformed client frames than allowed. */
  unknownFrame: { code: 4400, reason: 'unknown client frame' },
  /** Client frames (pings included) beyond the per-socket rate limit: reconnect with backoff. */
  rateLimited: { code: 4429, reason: 'too many client frames' },
} as const;

/** Why Hookline closes a realtime socket: a key of {@link CLOSE_CODES}. */
export type CloseReason = keyof typeof CLOSE_CODES;

/**
 * How long a socket closed by us may take to finish the closing handshake before it is destroyed:
 * a slow consumer may never read its close frame, and its buffers must not outlive it.
 */
const CLOSE_GRACE_MS = 5000;

/** Closes `socket` for `reason`, and destroys it if the peer does not complete the close in time. */
export function closeSocket(socket: WebSocket, reason: CloseReason): void {
  if (socket.readyState === socket.CLOSED) return;
  const { code, reason: text } = CLOSE_CODES[reason];
  socket.close(code, text);
  terminateAfterGrace(socket);
}

/** Destroys a closing `socket` unless its closing handshake completes within the grace period. */
export function terminateAfterGrace(socket: WebSocket): void {
  const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * An `error` on an open socket. A client breaking the protocol (oversized frame, bad opcode) is
 * the client's fault, not an error of ours, so one hostile client cannot fill the error log; ws
 * has already sent it the close code (1009, 1002), and terminating now would reset the connection
 * before the client reads it, so the socket gets the closing handshake's grace period instead.
 */
export function onSocketError(socket: WebSocket, error: Error, log: FastifyBaseLogger): void {
  const protocol = String((error as { code?: unknown }).code ?? '').startsWith('WS_ERR_');
  log[protocol ? 'debug' : 'warn']({ err: error }, 'websocket connection error');
  if (protocol) terminateAfterGrace(socket);
  else socket.terminate();
}
