import type { RawData, WebSocket } from 'ws';
import type { RealtimeGrant } from '../http/connection-grant.js';
import { type CloseReason, closeSocket } from './close-codes.js';
import { PONG_FRAME, type PreparedEvent } from './envelope.js';
import { FrameRateLimit } from './frame-rate.js';

/** When a subscriber's socket is closed for its own behaviour (REALTIME_* settings). */
export interface SubscriberLimits {
  /**
   * Unsent bytes (ws `bufferedAmount`, or live events held during a replay) above which the socket
   * is closed with 1013, checked before each page of events and before every other frame the
   * server sends (pongs, heartbeat pings).
   */
  maxBufferedBytes: number;
  /** Unknown client frames tolerated; the next one closes with 4400. */
  maxUnknownFrames: number;
  /** Client frames of any kind (text, binary, ping, pong) accepted at once; the next closes with 4429. */
  clientFrameBurst: number;
  /** Client frames per second refilled after the burst. */
  clientFramesPerSecond: number;
}

/** Hooks the subscriber calls for metrics. */
export interface SubscriberEvents {
  /** Called once per envelope written. */
  onSent(): void;
  /** Called when the socket is closed for reading too slowly. */
  onSlowConsumer(): void;
  /** Called when the socket is closed for sending frames too fast. */
  onRateLimited(): void;
  /** Called once when the socket has closed, however it closed. */
  onClosed(subscriber: Subscriber): void;
}

/** Polling interval while a replay waits for a socket to drain (ws exposes no drain event). */
const DRAIN_POLL_MS = 10;
/** How long a replay waits for a socket to drain before treating it as a slow consumer. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Each socket's subscriber, for the listeners every socket shares: a listener closing over its
 * subscriber would cost each idle socket a closure and a context per event (see docs/performance.md).
 */
const SUBSCRIBER = Symbol('hookline.subscriber');
type SubscribedSocket = WebSocket & { [SUBSCRIBER]: Subscriber };

/**
 * One WebSocket and what it has been sent. `lastSent` is the highest `seq` written: every event
 * offered at or below it is dropped, which is what makes replay plus live delivery duplicate-free.
 * While replaying, live events are held in `#held` and flushed after the replay, in order.
 */
export class Subscriber {
  readonly socket: WebSocket;
  readonly grant: RealtimeGrant;
  lastSent = 0;
  /** Cleared by each heartbeat, set by the pong (or any frame within the rate limit) that answers it. */
  alive = true;
  readonly #limits: SubscriberLimits;
  readonly #events: SubscriberEvents;
  readonly #frameRate: FrameRateLimit;
  #held: PreparedEvent[] | null = null;
  #heldBytes = 0;
  #unknownFrames = 0;
  #checkedPage = -1;

  constructor(socket: WebSocket, grant: RealtimeGrant, limits: SubscriberLimits, events: SubscriberEvents) {
    this.socket = socket;
    this.grant = grant;
    this.#limits = limits;
    this.#events = events;
    this.#frameRate = new FrameRateLimit(limits.clientFrameBurst, limits.clientFramesPerSecond);
    // The server is created with ws's `autoPong` off: protocol pings are answered here, under the
    // rate limit and the buffer cap, like every other frame. Listeners get the socket as `this`.
    (socket as SubscribedSocket)[SUBSCRIBER] = this;
    socket.on('ping', Subscriber.#onPing);
    socket.on('pong', Subscriber.#onPong);
    socket.on('message', Subscriber.#onMessage);
    socket.on('close', Subscriber.#onClose);
  }

  // Function expressions, not static methods: each runs with the socket as `this`.
  static readonly #onPing = function (this: WebSocket, data: Buffer): void {
    const subscriber = (this as SubscribedSocket)[SUBSCRIBER];
    if (subscriber.#admit() && subscriber.#fits()) this.pong(data);
  };

  static readonly #onPong = function (this: WebSocket): void {
    (this as SubscribedSocket)[SUBSCRIBER].#admit();
  };

  static readonly #onMessage = function (this: WebSocket, data: RawData, isBinary: boolean): void {
    (this as SubscribedSocket)[SUBSCRIBER].#onClientFrame(data, isBinary);
  };

  static readonly #onClose = function (this: WebSocket): void {
    const subscriber = (this as SubscribedSocket)[SUBSCRIBER];
    subscriber.#events.onClosed(subscriber);
  };

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Live delivery: written now, or held while a replay runs. The cap is checked once per page the
   * feed publishes (`page` changes), not per event: a page is written in one tick, before the
   * kernel can take any of it, so a per-event check would drop healthy clients on every burst.
   * A socket's unsent bytes are therefore bounded by the cap plus one page.
   */
  offer(event: PreparedEvent, page: number): void {
    if (event.seq <= this.lastSent || !this.open) return;
    if (this.#held) {
      this.#held.push(event);
      this.#heldBytes += event.frame.length;
      if (this.#heldBytes > this.#limits.maxBufferedBytes) this.#dropSlowConsumer();
      return;
    }
    if (page !== this.#checkedPage) {
      this.#checkedPage = page;
      if (!this.#fits()) return;
    }
    this.write(event);
  }

  /** Writes one event unless it was already sent. */
  write(event: PreparedEvent): void {
    if (event.seq <= this.lastSent || !this.open) return;
    this.socket.send(event.frame, { binary: false });
    this.lastSent = event.seq;
    this.#events.onSent();
  }

  /** Sends a control-plane text frame (`hello`, `pong`), under the buffer cap. */
  sendText(text: string): void {
    if (this.open && this.#fits()) this.socket.send(text);
  }

  /** The heartbeat's protocol ping, under the buffer cap like any other frame. */
  ping(): void {
    if (this.open && this.#fits()) this.socket.ping();
  }

  /** From now on live events are held until {@link endReplay}. */
  beginReplay(): void {
    this.#held = [];
    this.#heldBytes = 0;
  }

  /** Writes the held live events the replay did not already cover, then delivers live directly. */
  endReplay(): void {
    const held = this.#held ?? [];
    this.#held = null;
    this.#heldBytes = 0;
    for (const event of held) this.write(event);
  }

  /**
   * Resolves when the socket's unsent bytes are below half the cap, so a long replay streams at
   * the client's pace, one page at a time; false (and closed with 1013) if it does not drain.
   */
  async waitForDrain(): Promise<boolean> {
    const target = this.#limits.maxBufferedBytes / 2;
    for (let waited = 0; this.open && this.socket.bufferedAmount > target; waited += DRAIN_POLL_MS) {
      if (waited >= DRAIN_TIMEOUT_MS) {
        this.#dropSlowConsumer();
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    return this.open;
  }

  close(reason: CloseReason): void {
    closeSocket(this.socket, reason);
  }

  /**
   * Whether the socket's unsent bytes are within the cap; if not, it is dropped as a slow
   * consumer. Every frame the server sends is checked, so a client that never reads cannot make
   * the server queue answers (pongs) any more than events.
   */
  #fits(): boolean {
    if (this.socket.bufferedAmount <= this.#limits.maxBufferedBytes) return true;
    this.#dropSlowConsumer();
    return false;
  }

  /**
   * Counts one client frame against the rate limit. A frame within it shows the client is alive;
   * the first one beyond it closes the socket with 4429, and frames arriving while it closes are
   * ignored, so a flood can neither keep a socket alive nor make the server answer more.
   */
  #admit(): boolean {
    if (!this.open) return false;
    if (this.#frameRate.take()) {
      this.alive = true;
      return true;
    }
    this.#events.onRateLimited();
    this.close('rateLimited');
    return false;
  }

  #dropSlowConsumer(): void {
    if (!this.open) return;
    this.#held = null;
    this.#heldBytes = 0;
    this.#events.onSlowConsumer();
    this.close('slowConsumer');
  }

  #onClientFrame(data: RawData, isBinary: boolean): void {
    if (!this.#admit()) return;
    if (!isBinary && isClientPing(data)) {
      this.sendText(PONG_FRAME);
      return;
    }
    this.#unknownFrames++;
    if (this.#unknownFrames > this.#limits.maxUnknownFrames) this.close('unknownFrame');
  }
}

function isClientPing(data: RawData): boolean {
  try {
    const frame: unknown = JSON.parse(data.toString());
    return typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === 'ping';
  } catch {
    return false;
  }
}
