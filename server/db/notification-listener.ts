import pg from 'pg';

export interface NotificationListenerOptions {
  /** The app's pool: its connection settings are reused for the dedicated connection. */
  pool: pg.Pool;
  channel: string;
  /** Called on every NOTIFY and after every (re)connect, when notifications may have been missed. */
  onWake: () => void;
  /** Called when the connection fails; it is retried after `retryMs`. */
  onError: (error: Error) => void;
  /** Delay before reconnecting. Default 1000 ms. */
  retryMs?: number;
}

/**
 * LISTENs on one channel over a dedicated connection (never a pooled one: a pooled client
 * would lose the LISTEN when returned), reconnecting after failures until closed.
 */
export function listenForNotifications(options: NotificationListenerOptions): { close(): Promise<void> } {
  const retryMs = options.retryMs ?? 1000;
  let closed = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
  };

  const connect = async () => {
    const current = new pg.Client({ ...options.pool.options, application_name: 'hookline-listen' });
    client = current;
    current.on('error', (error) => {
      options.onError(error);
      current.end().catch(() => {});
      scheduleReconnect();
    });
    current.on('notification', (message) => {
      if (message.channel === options.channel) options.onWake();
    });
    try {
      await current.connect();
      await current.query(`LISTEN ${pg.escapeIdentifier(options.channel)}`);
      if (closed) await current.end();
      else options.onWake();
    } catch (error) {
      current.end().catch(() => {});
      if (!closed) options.onError(error as Error);
      scheduleReconnect();
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    },
  };
}
