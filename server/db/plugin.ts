import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from './database.js';
import { Notifications } from './notifications.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The database this app runs on (a Postgres server, or the embedded cluster). */
    database: Database;
    /** The instance's one LISTEN connection: features subscribe to their channels. */
    notifications: Notifications;
  }
}

/** The database the app runs on, and whether the app closes it. */
export interface DatabasePluginOptions {
  database: Database;
  /** Close the database when the app closes. False when a caller (a test) shares it. */
  closeOnShutdown: boolean;
}

/**
 * The database, and its LISTEN connection: started once the app is ready (features subscribe
 * while they register) and stopped when it closes, after the features have stopped.
 */
export const databasePlugin = fp<DatabasePluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate('database', options.database);
    const log = app.log.child({ concern: 'database' });
    const notifications = new Notifications({
      connection: options.database.pool.options,
      onError: (error, retryInMs) =>
        log.warn({ err: error, retryInMs }, 'LISTEN connection failed; polling until it is back'),
    });
    app.decorate('notifications', notifications);
    app.addHook('onReady', async () => notifications.start());
    app.addHook('onClose', async () => {
      await notifications.stop();
      if (options.closeOnShutdown) await options.database.close();
    });
  },
  { name: 'hookline-database' },
);
