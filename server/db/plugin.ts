import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from './database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The database this app runs on (a Postgres server, or the embedded cluster). */
    database: Database;
  }
}

export interface DatabasePluginOptions {
  database: Database;
  /** Close the database when the app closes. False when a caller (a test) shares it. */
  closeOnShutdown: boolean;
}

export const databasePlugin = fp<DatabasePluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate('database', options.database);
    if (options.closeOnShutdown) {
      app.addHook('onClose', async () => {
        await options.database.close();
      });
    }
  },
  { name: 'hookline-database' },
);
