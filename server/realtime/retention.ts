import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { pruneRealtimeEventsBatch } from './queries/realtime-reads.js';

/** Realtime retention (REALTIME_RETENTION_*): what to prune and how often. */
export interface RetentionOptions {
  db: Db;
  log: FastifyBaseLogger;
  /** Events older than this many hours are pruned. */
  maxAgeHours: number;
  /** The newest this many events are kept whatever their age. */
  maxCount: number;
  /** Time between prune rounds (REALTIME_PRUNE_INTERVAL_MS); a round still running skips one. */
  intervalMs: number;
}

/** Rows deleted per statement: short statements keep pruning out of ingest's way. */
const PRUNE_BATCH_SIZE = 5000;

/**
 * Prunes realtime events outside retention in the background. Every instance runs it; concurrent
 * runs delete disjoint or already-deleted rows, which is harmless.
 * @returns a function that stops it and waits for a running prune to finish.
 */
export function startRetentionPruner(options: RetentionOptions): () => Promise<void> {
  let running: Promise<void> | undefined;
  const prune = async () => {
    const olderThan = new Date(Date.now() - options.maxAgeHours * 3_600_000);
    let deleted = 0;
    for (;;) {
      const batch = await pruneRealtimeEventsBatch(options.db, {
        olderThan,
        keepCount: options.maxCount,
        batchSize: PRUNE_BATCH_SIZE,
      });
      deleted += batch;
      if (batch < PRUNE_BATCH_SIZE) break;
    }
    if (deleted > 0) options.log.debug({ deleted }, 'pruned realtime events outside retention');
  };
  const timer = setInterval(() => {
    if (running) return;
    running = prune()
      .catch((error: unknown) => options.log.warn({ err: error }, 'realtime retention pruning failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
