import ReconnectingWebSocketModule from 'reconnecting-websocket';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import type { ConnectionStatus, Envelope, RealtimeEvents } from './types.js';

export {
  createTokenRefresher,
  type TokenRefresher,
  type TokenRefresherOptions,
  tokenTimes,
} from './token-refresh.js';
export type * from './types.js';

type ReconnectingWebSocketClass = typeof import('reconnecting-websocket').default;

/**
 * The package is CommonJS (`module.exports = Class`) but its types declare a default export, so
 * depending on the bundler or runtime the import is the class or `{ default: Class }`. Accept both.
 */
const ReconnectingWebSocket = ((ReconnectingWebSocketModule as unknown as { default?: unknown }).default ??
  ReconnectingWebSocketModule) as ReconnectingWebSocketClass;

/** The close code of a revoked session (docs/realtime.md, "Close codes"). */
const SESSION_REVOKED = 4003;

/** The constructor of a WebSocket: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** How the realtime client connects, authenticates and detects a dead connection. */
export interface RealtimeClientOptions {
  /**
   * Absolute ws(s) URL of the gateway's socket, e.g. `wss://hooks.example.com/ws/messages`, or a
   * function called before every connection attempt, so a client can fail over to another
   * instance (resume with `since` works on any instance sharing the database).
   */
  url: string | (() => string);
  /**
   * Returns a connection token (from your backend, which calls `POST /api/realtime/tokens`, or
   * from a {@link createTokenRefresher} that renews one before it expires). Called before EVERY
   * connection attempt, so an expired token is never reused.
   */
  getToken: () => string | Promise<string>;
  /** Resume after this seq (e.g. persisted from a previous page). Default: live from now. */
  since?: number;
  /** WebSocket implementation. Default `globalThis.WebSocket`; in Node pass `ws`'s WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Reconnection delays. Default 0.5 s doubling to 30 s, jittered per attempt. */
  backoff?: BackoffOptions;
  /** How often to send `{"type":"ping"}` while connected. Default 20,000 ms. */
  heartbeatIntervalMs?: number;
  /** Reconnect when nothing (event, pong) arrived for this long. Default 45,000 ms. */
  heartbeatTimeoutMs?: number;
}

/** A running realtime connection, made by {@link createRealtimeClient}. */
export interface RealtimeClient {
  /** Subscribes to an envelope type, `event` (every envelope), `status`, `hello` or `reset`. */
  on<K extends keyof RealtimeEvents>(type: K, handler: (payload: RealtimeEvents[K]) => void): () => void;
  /** Closes for good: no reconnection. */
  close(): void;
  /** While waiting out a backoff delay, stops waiting and connects now (a "Reconnect now" button). */
  reconnectNow(): void;
  /** The connection's current state. */
  readonly status: ConnectionStatus;
  /** The highest seq received: resume point for the next connection. */
  readonly lastSeq: number | undefined;
}

const ENVELOPE_TYPES = new Set([
  'message:new',
  'message:updated',
  'message:deleted',
  'chat:read',
  'account:status',
]);

/** A delay that `cut()` ends early. */
function interruptibleSleep() {
  let cut = () => {};
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        cut = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    cut: () => cut(),
  };
}

/**
 * A realtime connection that never misses an event: it reconnects with jittered backoff, asks
 * for a fresh token and resumes with `since=<lastSeq>` every time, drops anything it already saw,
 * detects a dead connection by heartbeat, and tells the app when it must refetch (`reset`).
 */
export function createRealtimeClient(options: RealtimeClientOptions): RealtimeClient {
  const handlers = new Map<string, Set<(payload: never) => void>>();
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 20_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 45_000;
  let lastSeq = options.since;
  let status: ConnectionStatus = { state: 'connecting' };
  let attempt = 0;
  let closed = false;
  let lastActivity = Date.now();
  const backoffWait = interruptibleSleep();

  const emit = <K extends keyof RealtimeEvents>(type: K, payload: RealtimeEvents[K]) => {
    for (const handler of handlers.get(type) ?? []) (handler as (value: RealtimeEvents[K]) => void)(payload);
  };
  const setStatus = (next: ConnectionStatus) => {
    // Once closed for good, a reconnection the socket had already begun reports nothing more.
    if (status.state === 'closed' && closed) return;
    status = next;
    emit('status', next);
  };

  /** Runs before every connection: waits out the backoff, then builds the URL with a fresh token. */
  const nextUrl = async (): Promise<string> => {
    for (;;) {
      if (attempt > 0) {
        const delayMs = backoffDelay(attempt, options.backoff);
        setStatus({ state: 'reconnecting', attempt, delayMs });
        await backoffWait.sleep(delayMs);
      } else {
        setStatus({ state: 'connecting' });
      }
      attempt++;
      if (closed) return 'ws://closed.invalid/';
      try {
        const url = new URL(typeof options.url === 'function' ? options.url() : options.url);
        url.searchParams.set('token', await options.getToken());
        if (lastSeq !== undefined) url.searchParams.set('since', String(lastSeq));
        return url.toString();
      } catch {
        // No token (the backend is down, say): back off and ask again rather than connect without one.
      }
    }
  };

  const socket = new ReconnectingWebSocket(nextUrl, [], {
    WebSocket: options.WebSocket ?? globalThis.WebSocket,
    // Delays are ours (nextUrl), drawn per attempt; the library's own would be fixed per page load.
    minReconnectionDelay: 0,
    maxReconnectionDelay: 0,
    reconnectionDelayGrowFactor: 1,
    // Its send queue replays stale frames after a reconnect: we only ever send pings, when open.
    maxEnqueuedMessages: 0,
    connectionTimeout: 10_000,
  });

  const handleFrame = (raw: unknown) => {
    if (typeof raw !== 'string') return;
    let frame: { type?: unknown; seq?: unknown; reset?: unknown };
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (frame.type === 'hello' && typeof frame.seq === 'number') {
      // A healthy connection restarts the backoff, but at the first jittered step, not at zero:
      // when a gateway restarts, its clients must not all reconnect in the same instant.
      attempt = 1;
      const reset = frame.reset === true;
      // Without a resume point, or after a reset, "now" becomes the resume point. Otherwise the
      // replay after hello brings lastSeq forward itself.
      if (lastSeq === undefined || reset) lastSeq = frame.seq;
      setStatus({ state: 'open' });
      emit('hello', { seq: frame.seq, reset });
      if (reset) emit('reset', { seq: frame.seq });
      return;
    }
    if (typeof frame.type !== 'string' || !ENVELOPE_TYPES.has(frame.type) || typeof frame.seq !== 'number')
      return;
    if (lastSeq !== undefined && frame.seq <= lastSeq) return;
    lastSeq = frame.seq;
    const envelope = frame as Envelope;
    emit(envelope.type, envelope as never);
    emit('event', envelope);
  };

  socket.addEventListener('open', () => {
    lastActivity = Date.now();
  });
  // 4003: the session was revoked. Its tokens are refused from now on: reconnecting is pointless.
  socket.addEventListener('close', (event) => {
    if (event.code !== SESSION_REVOKED || closed) return;
    stop();
    setStatus({ state: 'closed', reason: 'revoked' });
  });
  socket.addEventListener('message', (event: MessageEvent) => {
    lastActivity = Date.now();
    handleFrame(event.data);
  });

  const heartbeat = setInterval(() => {
    if (closed || socket.readyState !== socket.OPEN) return;
    if (Date.now() - lastActivity > heartbeatTimeoutMs) {
      lastActivity = Date.now();
      socket.reconnect(4000, 'heartbeat timeout');
      return;
    }
    socket.send(JSON.stringify({ type: 'ping' }));
  }, heartbeatIntervalMs);

  function stop(): void {
    closed = true;
    clearInterval(heartbeat);
    socket.close(1000, 'client closed');
  }

  return {
    on(type, handler) {
      let set = handlers.get(type);
      if (!set) {
        set = new Set();
        handlers.set(type, set);
      }
      set.add(handler as (payload: never) => void);
      return () => {
        set.delete(handler as (payload: never) => void);
      };
    },
    close() {
      if (closed) return;
      stop();
      setStatus({ state: 'closed' });
    },
    reconnectNow() {
      if (status.state === 'reconnecting') backoffWait.cut();
    },
    get status() {
      return status;
    },
    get lastSeq() {
      return lastSeq;
    },
  };
}
