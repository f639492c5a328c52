import pg from 'pg';
import { backoffDelay } from '../shared/backoff.js';

/** `application_name` of the LISTEN connection, so operators (and tests) can find it in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'hookline_listener';

/** What a subscriber to one channel is told. */
export interface NotificationHandler {
  /** A notification on the channel, with its payload. */
  onNotification(payload: string | undefined): void;
  /**
   * After every successful LISTEN, the first and each one after a reconnection: notifications
   * sent while disconnected are lost, so the subscriber re-checks by reading rows.
   */
  onListening(): void;
  /** The connection failed, or an attempt to reconnect did; it is retried after `retryInMs`. */
  onError?(error: unknown, retryInMs: number): void;
}

/** How the LISTEN connection connects, reports failures and backs off. */
export interface NotificationsOptions {
  /** Connection settings of the app's pool (`pool.options`): the listener connects the same way. */
  connection: pg.ClientConfig;
  /** Called once per failure (each subscriber's `onError` is called too). */
  onError(error: unknown, retryInMs: number): void;
  /** First reconnection delay. Default 100 ms; it doubles up to `maxRetryMs`, with jitter. */
  minRetryMs?: number;
  /** Longest reconnection delay. Default 5000 ms. */
  maxRetryMs?: number;
}

/**
 * The instance's one LISTEN connection (docs/architecture.md), dispatching notifications by
 * channel to the features that subscribed (realtime, outbound, send). It lives outside the pool:
 * a pooled client is handed to other queries and recycled when idle, and either would silently
 * drop the subscriptions. It reconnects with exponential backoff for as long as it runs, LISTENs
 * on every channel again, and tells every subscriber to re-check what it may have missed.
 */
export class Notifications {
  readonly #options: NotificationsOptions;
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #started = false;
  #stopped = false;
  #listening = false;

  constructor(options: NotificationsOptions) {
    this.#options = options;
  }

  /** Whether the connection is up and LISTENs on every subscribed channel. */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Subscribes to a channel (LISTENed at once when connected, else once connected).
   * @returns a function that unsubscribes.
   */
  subscribe(channel: string, handler: NotificationHandler): () => void {
    const handlers = this.#handlers.get(channel) ?? new Set();
    handlers.add(handler);
    this.#handlers.set(channel, handlers);
    if (this.#listening) {
      // A failure here is the connection's: its error handler reconnects and re-LISTENs all.
      this.#listenAll(this.#client).then(
        (ok) => ok && handler.onListening(),
        () => {},
      );
    }
    return () => {
      handlers.delete(handler);
    };
  }

  /** Connects in the background; failures are reported and retried. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#listening = false;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      ...this.#options.connection,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
    });
    this.#client = client;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      this.#listening = false;
      client.end().catch(() => {});
      if (this.#client === client) this.#client = undefined;
      this.#scheduleRetry(error);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the listener connection ended')));
    client.on('notification', (message) => {
      for (const handler of this.#handlers.get(message.channel) ?? [])
        handler.onNotification(message.payload);
    });
    try {
      await client.connect();
      // A channel subscribed while the LISTEN was in flight is not in it: LISTEN again until
      // every channel subscribed so far is (channels are only ever added).
      let listened: number;
      do {
        listened = this.#handlers.size;
        if (!(await this.#listenAll(client))) throw new Error('the listener connection ended');
      } while (this.#handlers.size !== listened);
    } catch (error) {
      fail(error);
      return;
    }
    if (this.#stopped || failed) return;
    this.#failures = 0;
    this.#listening = true;
    for (const handlers of this.#handlers.values()) for (const handler of handlers) handler.onListening();
  }

  /**
   * LISTENs on every subscribed channel in one statement (LISTEN again on a channel is a no-op),
   * so the connection's last query in pg_stat_activity names them all.
   */
  async #listenAll(client: pg.Client | undefined): Promise<boolean> {
    if (!client) return false;
    const channels = [...this.#handlers.keys()];
    if (channels.length === 0) return true;
    // LISTEN takes no bind parameters: channels are constants, quoted as identifiers.
    await client.query(channels.map((channel) => `LISTEN ${pg.escapeIdentifier(channel)}`).join('; '));
    return this.#client === client;
  }

  #scheduleRetry(error: unknown): void {
    if (this.#stopped) return;
    this.#failures++;
    // Jittered, so instances that lost Postgres together do not reconnect in lockstep.
    const delay = backoffDelay(this.#failures, {
      minDelayMs: this.#options.minRetryMs ?? 100,
      maxDelayMs: this.#options.maxRetryMs ?? 5000,
    });
    this.#options.onError(error, delay);
    for (const handlers of this.#handlers.values())
      for (const handler of handlers) handler.onError?.(error, delay);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }
}
