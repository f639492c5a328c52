import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { UnipileChatActions } from '../providers/unipile/index.js';
import { QueueWorker, queueRetryDelay } from '../shared/queue-worker.js';
import { type ClaimedReadMark, claimDueReadMarks, finishReadMark, retryReadMark } from './read-marks.js';

/** What the read-status worker calls, and its budgets (the SEND_* settings: docs/configuration.md). */
export interface ReadStatusWorkerOptions {
  db: Db;
  actions: Pick<UnipileChatActions, 'setReadStatus'>;
  log: FastifyBaseLogger;
  concurrency: number;
  /** Longer than one call's timeout: an attempt that outlives it is claimed again. */
  leaseMs: number;
  pollIntervalMs: number;
  /** First backoff after a failure; it doubles up to five minutes. */
  retryMinMs: number;
  /** Attempts before a mark is given up (logged). */
  maxAttempts: number;
}

/**
 * Tells the provider which chats were read in Hookline (`PATCH /chats/{id}` setReadStatus), from
 * the durable `read_marks` queue, on the shared queue loop. Marking read is idempotent, so a
 * crash mid-call only means the call is made again once its lease ends; failures back off and
 * retry, a refusal (the chat is gone at the provider) ends the mark.
 */
export class ReadStatusWorker {
  readonly #options: ReadStatusWorkerOptions;
  readonly #queue: QueueWorker<ClaimedReadMark>;

  constructor(options: ReadStatusWorkerOptions) {
    this.#options = options;
    this.#queue = new QueueWorker<ClaimedReadMark>({
      concurrency: options.concurrency,
      pollIntervalMs: options.pollIntervalMs,
      claim: (limit) => claimDueReadMarks(options.db, limit, options.leaseMs),
      run: (mark, signal) => this.#mark(mark, signal),
      onError: (error, mark) =>
        mark
          ? options.log.error({ err: error, chatId: mark.chatId }, 'read-status step failed')
          : options.log.warn({ err: error }, 'read-status claim failed; retrying on the next poll'),
    });
  }

  /** Starts polling and claiming. */
  start(): void {
    this.#queue.start();
  }

  /** Asks for a claim round soon (a mark was queued). */
  wake(): void {
    this.#queue.wake();
  }

  /** Stops claiming and abandons calls in flight (their leases end; they are made again). */
  stop(): Promise<void> {
    return this.#queue.stop();
  }

  async #mark(mark: ClaimedReadMark, signal: AbortSignal): Promise<void> {
    const outcome = await this.#options.actions.setReadStatus(mark.chatId, true, signal);
    if (this.#queue.stopped) return;
    const { db, log } = this.#options;
    const context = { accountId: mark.accountId, chatId: mark.chatId, attempts: mark.attempts };
    if (outcome.kind === 'done') {
      await finishReadMark(db, mark);
      return;
    }
    if (outcome.kind === 'refused') {
      log.warn(
        { ...context, status: outcome.status, reason: outcome.reason },
        'provider refused to mark a chat read',
      );
      await finishReadMark(db, mark);
      return;
    }
    if (mark.attempts >= this.#options.maxAttempts) {
      log.warn({ ...context, reason: outcome.reason }, 'gave up marking a chat read at the provider');
      await finishReadMark(db, mark);
      return;
    }
    const backoff = queueRetryDelay(this.#options.retryMinMs, mark.attempts);
    const delay = Math.max(outcome.retryAfterMs ?? 0, backoff);
    log.info(
      { ...context, reason: outcome.reason, delayMs: delay },
      'marking a chat read failed; will retry',
    );
    await retryReadMark(db, mark, new Date(Date.now() + delay), outcome.reason);
  }
}
