import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LISTENER_APPLICATION_NAME } from '../db/notifications.js';
import { REALTIME_CHANNEL } from './channels.js';
import { onSocketError } from './close-codes.js';
import { RealtimeFeed } from './feed.js';
import { RealtimeHub } from './hub.js';
import { createRealtimeMetrics } from './metrics.js';
import { readCommittedRealtimeSeq, readRealtimeEventsAfter } from './queries/realtime-reads.js';
import { startRetentionPruner } from './retention.js';
import { runSession } from './session.js';
import { registerSocketRoute } from './socket-route.js';
import type { Subscriber } from './subscriber.js';
import { registerTokenRoute } from './token-route.js';

/** Rows per read, live and replay. */
const PAGE_SIZE = 500;
/** Heartbeat timer ticks per interval, each visiting that share of the sockets (0.5 s at 25 s). */
const HEARTBEAT_SLICES = 50;

/**
 * Realtime fan-out (docs/realtime.md): the token route, `GET /ws/messages`, one shared reader of
 * committed events per instance woken in-process, by LISTEN on Postgres, and by a poll, the
 * heartbeat, retention pruning, and shutdown with 1001.
 */
export const realtimePlugin = fp(
  async (app: FastifyInstance) => {
    const config = app.config;
    const { db } = app.database;
    const metrics = createRealtimeMetrics(app.metrics);
    const hub = new RealtimeHub(metrics);
    const log = app.log.child({ concern: 'realtime' });
    const feed = new RealtimeFeed(
      {
        read: (afterSeq, limit) => readRealtimeEventsAfter(db, afterSeq, limit),
        publish: (rows) => hub.publish(rows),
        onError: (error) =>
          log.warn({ err: error }, 'reading realtime events failed; retrying on the next wake-up'),
        pageSize: PAGE_SIZE,
        hasSubscribers: () => hub.size > 0,
      },
      await readCommittedRealtimeSeq(db),
    );
    const sessionContext = {
      db,
      hub,
      feed,
      log,
      replayPageSize: PAGE_SIZE,
      limits: {
        maxBufferedBytes: config.REALTIME_MAX_BUFFERED_BYTES,
        maxUnknownFrames: config.REALTIME_MAX_UNKNOWN_FRAMES,
        clientFrameBurst: config.REALTIME_CLIENT_FRAME_BURST,
        clientFramesPerSecond: config.REALTIME_CLIENT_FRAME_RATE,
      },
      events: {
        onSent: () => metrics.messagesSent.inc(),
        onSlowConsumer: () => metrics.slowConsumers.inc(),
        onRateLimited: () => metrics.rateLimited.inc(),
        onClosed: (subscriber: Subscriber) => hub.remove(subscriber),
      },
    };

    // Registered before @fastify/websocket's own preClose, so sockets get 1001, not 1005.
    app.addHook('preClose', async () => hub.closeAll());
    await app.register(websocket, {
      // Protocol pings are answered by the subscriber, under its rate limit and buffer cap. The hub
      // already tracks every socket: ws's own set would cost each one a close listener and entry.
      options: { maxPayload: config.REALTIME_MAX_CLIENT_FRAME_BYTES, autoPong: false, clientTracking: false },
      errorHandler: (error, socket, request) => onSocketError(socket, error, request.log),
    });

    registerTokenRoute(app);
    const stopClosingRevoked = app.realtimeSessions.onRevoked((sessionId) => hub.closeSession(sessionId));
    registerSocketRoute(app, {
      onSocketError: (socket, error) => onSocketError(socket, error, log),
      onConnection: (socket, grant, since) => void runSession(sessionContext, socket, grant, since),
    });

    const unsubscribe = app.changes.subscribe((change) => {
      if (change.realtimeSeq !== undefined) feed.wake(change.realtimeSeq);
    });
    const unlisten = app.notifications.subscribe(REALTIME_CHANNEL, {
      onNotification: (payload) => feed.wake(payload ? Number(payload) : undefined),
      onListening: () => {
        log.debug({ applicationName: LISTENER_APPLICATION_NAME }, 'listening for realtime events');
        feed.wake();
      },
      onError: () => metrics.listenerReconnects.inc(),
    });
    app.addReadinessCheck('realtime-listener', {
      critical: false,
      run: () =>
        app.notifications.listening ? { ok: true, state: 'listening' } : { ok: false, state: 'reconnecting' },
    });

    let stopPruner: (() => Promise<void>) | undefined;
    const timers: NodeJS.Timeout[] = [];
    app.addHook('onReady', async () => {
      timers.push(
        setInterval(() => feed.wake(), config.REALTIME_POLL_INTERVAL_MS),
        setInterval(
          () => hub.heartbeatSlice(Date.now() / 1000, HEARTBEAT_SLICES),
          config.REALTIME_HEARTBEAT_INTERVAL_MS / HEARTBEAT_SLICES,
        ),
      );
      for (const timer of timers) timer.unref();
      stopPruner = startRetentionPruner({
        db,
        log,
        maxAgeHours: config.REALTIME_RETENTION_HOURS,
        maxCount: config.REALTIME_RETENTION_COUNT,
        intervalMs: config.REALTIME_PRUNE_INTERVAL_MS,
      });
    });
    app.addHook('onClose', async () => {
      unsubscribe();
      unlisten();
      stopClosingRevoked();
      for (const timer of timers) clearInterval(timer);
      await Promise.all([stopPruner?.(), feed.idle()]);
    });
  },
  {
    name: 'hookline-realtime',
    dependencies: [
      'hookline-database',
      'hookline-metrics',
      'hookline-credentials',
      'hookline-realtime-sessions',
    ],
  },
);
