import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Db } from '../db/database.js';
import type { RealtimeGrant, RealtimeScope } from '../http/connection-grant.js';
import { helloFrame, prepareEvent } from './envelope.js';
import type { RealtimeFeed } from './feed.js';
import type { RealtimeHub } from './hub.js';
import {
  readAccountRealtimeEventsAfter,
  readDrawnRealtimeSeq,
  readOldestRealtimeSeq,
  readRealtimeEventsAfter,
} from './queries/realtime-reads.js';
import { Subscriber, type SubscriberEvents, type SubscriberLimits } from './subscriber.js';

/** What a connection's session shares with the rest of the realtime feature. */
export interface SessionContext {
  db: Db;
  hub: RealtimeHub;
  feed: RealtimeFeed;
  limits: SubscriberLimits;
  events: SubscriberEvents;
  log: FastifyBaseLogger;
  /** Rows per replay read. */
  replayPageSize: number;
}

/**
 * Runs one connection: registers it for live events FIRST, then sends `hello` and replays.
 * Because the socket is registered before the replay reads anything, every event is either
 * committed before the replay's reads (so they return it) or published live afterwards (so it
 * is held, then flushed); `lastSent` drops whatever both paths produce. Since `seq` order is
 * commit order, no event can slip between the two.
 */
export async function runSession(
  context: SessionContext,
  socket: WebSocket,
  grant: RealtimeGrant,
  since: number | undefined,
): Promise<void> {
  const subscriber = new Subscriber(socket, grant, context.limits, context.events);
  const liveFrom = context.feed.lastSeen;

  if (since === undefined) {
    subscriber.lastSent = liveFrom;
    context.hub.add(subscriber);
    subscriber.sendText(helloFrame(liveFrom, false));
    return;
  }

  subscriber.lastSent = since;
  subscriber.beginReplay();
  context.hub.add(subscriber);
  try {
    const reset = await outsideRetention(context.db, since, liveFrom);
    if (reset) {
      subscriber.lastSent = liveFrom;
      subscriber.sendText(helloFrame(liveFrom, true));
    } else {
      subscriber.sendText(helloFrame(liveFrom, false));
      await replay(context, subscriber, grant.scope);
    }
  } catch (error) {
    context.log.warn({ err: error }, 'realtime replay failed; closing the socket with 1011');
    subscriber.close('internalError');
    return;
  }
  subscriber.endReplay();
}

/**
 * Whether events after `since` may be gone: retention pruned past it (the kept window is
 * contiguous, so its oldest `seq` says so), or `since` is beyond any `seq` ever drawn (a client of
 * another database). A rolled-back `seq` right at the window's edge can cause a needless reset,
 * never a silent gap.
 */
async function outsideRetention(db: Db, since: number, liveFrom: number): Promise<boolean> {
  if (since > (await readDrawnRealtimeSeq(db))) return true;
  const oldest = await readOldestRealtimeSeq(db);
  if (oldest === null) return since < liveFrom;
  return since < oldest - 1;
}

async function replay(context: SessionContext, subscriber: Subscriber, scope: RealtimeScope): Promise<void> {
  for (;;) {
    const after = subscriber.lastSent;
    const rows =
      scope.kind === 'all'
        ? await readRealtimeEventsAfter(context.db, after, context.replayPageSize)
        : await readAccountRealtimeEventsAfter(context.db, scope.accountIds, after, context.replayPageSize);
    for (const row of rows) subscriber.write(prepareEvent(row));
    if (rows.length < context.replayPageSize || !subscriber.open) return;
    if (!(await subscriber.waitForDrain())) return;
  }
}
