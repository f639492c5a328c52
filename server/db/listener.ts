import pg from 'pg';
import { backoffDelay } from '../shared/backoff.js';

/** `application_name` of the LISTEN connection, so operators (and tests) can find it in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'hookline_listener';

export interface NotificationListenerOptions {
  /** Connection settings of the app's pool (`pool.options`): the listener connects the same way. */
  connection: pg.ClientConfig;
  channel: string;
  /** Called with each notification's payload. */
  onNotification(payload: string | undefined): void;
  /**
   * Called after every successful LISTEN, the first and each reconnection: notifications sent
   * while disconnected are lost, so the caller catches up by reading rows.
   */
  onListening(): void;
  /** Called when the connection fails or a reconnection attempt fails. */
  onError(error: unknown, retryInMs: number): void;
  /** First reconnection delay. Default 100 ms; it doubles up to `maxRetryMs`, with jitter. */
  minRetryMs?: number;
  /** Longest reconnection delay. Default 5000 ms. */
  maxRetryMs?: number;
}

/**
 * LISTEN on a dedicated connection, outside the pool: a pooled client is handed to other queries
 * and recycled when idle, and either would silently drop the subscription. It reconnects with
 * exponential backoff for as long as it runs.
 */
export class NotificationListener {
  readonly #options: NotificationListenerOptions;
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;
  #listening = false;

  constructor(options: NotificationListenerOptions) {
    this.#options = options;
  }

  /** Whether the LISTEN is in place right now. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Connects in the background; failures are reported to `onError` and retried. */
  start(): void {
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
      if (message.channel === this.#options.channel) this.#options.onNotification(message.payload);
    });
    try {
      await client.connect();
      // LISTEN takes no bind parameters: the channel is a constant, quoted as an identifier.
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#options.channel)}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (this.#stopped || failed) return;
    this.#failures = 0;
    this.#listening = true;
    this.#options.onListening();
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
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }
}
