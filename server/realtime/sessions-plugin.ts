import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerLoginRoutes } from './login.js';
import { pruneEndedSessions, SESSIONS_CHANNEL } from './queries/realtime-sessions.js';
import { SessionRegistry } from './session-registry.js';
import { registerSessionRoutes } from './session-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Realtime sessions: what verifies every connection token (REST, refresh, upgrade). */
    realtimeSessions: SessionRegistry;
  }
}

/** The key connection tokens are signed with. */
export interface SessionsPluginOptions {
  /** HS256 key of connection tokens (`secrets.realtimeJwtSecret`). */
  jwtSecret: string;
}

/**
 * Realtime sessions (docs/realtime.md, "Sessions"): decorates `app.realtimeSessions`, keeps its
 * revoked set current (NOTIFY on every revocation, a full read after each LISTEN reconnection and
 * every REALTIME_POLL_INTERVAL_MS), prunes ended sessions and login codes, and serves the session
 * and login routes. Verifies the connection tokens every route that accepts one is given
 * (server/http/credentials.ts).
 */
export const sessionsPlugin = fp<SessionsPluginOptions>(
  async (app: FastifyInstance, options) => {
    const config = app.config;
    const registry = new SessionRegistry({
      db: app.database.db,
      jwtSecret: options.jwtSecret,
      maxTokenTtlSeconds: config.REALTIME_TOKEN_MAX_TTL_SECONDS,
    });
    app.decorate('realtimeSessions', registry);
    app.setTokenVerifier((token) => registry.verify(token));
    const log = app.log.child({ concern: 'sessions' });
    const reload = () =>
      registry
        .reload()
        .catch((error: unknown) => log.warn({ err: error }, 'reading revoked sessions failed'));

    const unlisten = app.notifications.subscribe(SESSIONS_CHANNEL, {
      onNotification: (sessionId) => {
        if (sessionId) registry.markRevoked(sessionId);
      },
      onListening: () => void reload(),
    });
    const timers: NodeJS.Timeout[] = [];
    app.addHook('onReady', async () => {
      await registry.reload();
      timers.push(
        setInterval(() => void reload(), config.REALTIME_POLL_INTERVAL_MS),
        setInterval(
          () =>
            void pruneEndedSessions(app.database.db).catch((error: unknown) =>
              log.warn({ err: error }, 'pruning ended sessions failed'),
            ),
          config.REALTIME_PRUNE_INTERVAL_MS,
        ),
      );
      for (const timer of timers) timer.unref();
    });
    app.addHook('onClose', async () => {
      unlisten();
      for (const timer of timers) clearInterval(timer);
    });

    registerSessionRoutes(app);
    registerLoginRoutes(app);
  },
  { name: 'hookline-realtime-sessions', dependencies: ['hookline-database', 'hookline-credentials'] },
);
