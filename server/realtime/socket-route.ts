import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { HooklineError } from '../errors.js';
import type { RealtimeGrant } from '../http/connection-grant.js';
import type { RouteCredentials } from '../http/credentials.js';
import { socketRouteSchema } from './route-schemas.js';

/** What the socket route hands accepted connections to. */
export interface SocketRouteOptions {
  /** Handles an `error` on an accepted socket. */
  onSocketError(socket: WebSocket, error: Error): void;
  /** Runs an accepted, upgraded connection. */
  onConnection(socket: WebSocket, grant: RealtimeGrant, since: number | undefined): void;
}

const querySchema = z.object({
  token: z.string().optional(),
  since: z
    .string()
    .regex(/^\d{1,15}$/, { error: 'expected a non-negative whole number' })
    .transform(Number)
    .optional(),
});

/** The token a connection was counted against, kept on its TCP socket until it closes. */
const TOKEN_ID = Symbol('hookline.tokenId');
type CountedSocket = Socket & { [TOKEN_ID]: string };

/**
 * A connection token in the `token` query parameter: a browser cannot give the upgrade request an
 * `Authorization` header. The credentials plugin verifies it (signature, expiry, revocation)
 * before anything else is looked at.
 */
const SOCKET_CREDENTIALS: RouteCredentials = { accepts: ['read'], tokenIn: 'query' };

/**
 * Whether a browser on `origin` may connect. No Origin header: not a browser, the token alone
 * decides. No allowlist configured: only the gateway's own origin (same host), which is where the
 * inbox page is served from.
 */
function originAllowed(request: FastifyRequest, allowlist: readonly string[] | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowlist) return allowlist.includes('*') || allowlist.includes(origin);
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * `GET /ws/messages?token=…&since=<seq>`. Everything that can be refused is refused before the
 * upgrade, as a plain HTTP error a client can read (docs/realtime.md, "Refusals").
 */
export function registerSocketRoute(app: FastifyInstance, options: SocketRouteOptions): void {
  const accepted = new WeakMap<
    IncomingMessage,
    { grant: RealtimeGrant; since: number | undefined; response: ServerResponse }
  >();
  // Counted per session, so refreshed successors of one token share the cap; a token minted
  // before sessions existed counts on its own.
  const openPerSession = new Map<string, number>();
  const maxPerSession = app.config.REALTIME_MAX_CONNECTIONS_PER_TOKEN;

  const release = (key: string) => {
    const count = (openPerSession.get(key) ?? 1) - 1;
    if (count <= 0) openPerSession.delete(key);
    else openPerSession.set(key, count);
  };
  // One listener for every connection, each reading its own session key: a closure per connection
  // would stay alive as long as its socket (see docs/performance.md).
  const releaseOnClose = function (this: CountedSocket) {
    release(this[TOKEN_ID]);
  };
  const onSocketError = function (this: WebSocket, error: Error) {
    options.onSocketError(this, error);
  };

  app.route({
    method: 'GET',
    url: '/ws/messages',
    logLevel: 'warn',
    schema: socketRouteSchema(querySchema),
    config: { credentials: SOCKET_CREDENTIALS },
    preValidation: async function admitConnection(request, reply) {
      const query = querySchema.safeParse(request.query);
      if (!query.success) {
        throw new HooklineError('HL_ERR_INVALID_REQUEST', 'Invalid query', { details: query.error.issues });
      }
      if (!originAllowed(request, app.config.REALTIME_ALLOWED_ORIGINS)) {
        throw new HooklineError('HL_ERR_FORBIDDEN', 'Origin not allowed', {
          details: { origin: request.headers.origin },
        });
      }
      if (!request.ws || request.caller?.kind !== 'token') return;
      const { grant } = request.caller;
      const key = grant.session?.id ?? grant.tokenId;
      const open = openPerSession.get(key) ?? 0;
      if (open >= maxPerSession) {
        throw new HooklineError('HL_ERR_RATE_LIMITED', 'Too many open connections for this session', {
          details: { limit: maxPerSession },
        });
      }
      // Reserved now, released when the TCP connection ends however it ends (refused upgrade,
      // close, terminate), so concurrent upgrades cannot overshoot and nothing leaks.
      openPerSession.set(key, open + 1);
      const socket = request.raw.socket as CountedSocket;
      socket[TOKEN_ID] = key;
      socket.on('close', releaseOnClose);
      accepted.set(request.raw, { grant, since: query.data.since, response: reply.raw });
    },
    handler: async function refusePlainGet() {
      throw new HooklineError('HL_ERR_INVALID_REQUEST', 'This route only accepts WebSocket upgrades', {
        statusCode: 426,
      });
    },
    wsHandler: (socket, request) => {
      const connection = accepted.get(request.raw);
      if (!connection) {
        socket.terminate();
        return;
      }
      releaseUpgradeObjects(socket, connection.response, onSocketError);
      options.onConnection(socket, connection.grant, connection.since);
    },
  });
}

/**
 * Lets the upgrade's HTTP objects (request, response, fastify's Request and Reply, their headers
 * and listeners: about 3.5 KB) be collected once the socket is open, instead of living as long as
 * the connection. @fastify/websocket keeps them reachable in two ways: the `error` listener it
 * adds to every socket closes over the request and reply, and the response it creates for the
 * upgrade stays assigned to the TCP socket. With 10,000 connections that is some 35 MB more heap
 * for every full GC to mark; such GCs were behind fan-out latency spikes (docs/performance.md).
 * The replacement listener handles errors exactly as the plugin's `errorHandler` does.
 */
function releaseUpgradeObjects(
  socket: WebSocket,
  response: ServerResponse,
  onSocketError: (this: WebSocket, error: Error) => void,
): void {
  socket.removeAllListeners('error');
  socket.on('error', onSocketError);
  if (response.socket) response.detachSocket(response.socket);
}
