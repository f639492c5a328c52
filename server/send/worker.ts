import type { FastifyBaseLogger } from 'fastify';
import type { ChangeSignal } from '../db/change-signal.js';
import type { Db } from '../db/database.js';
import { transaction, transactionBatches } from '../db/transaction.js';
import type { Published, SendFailureReason } from '../events/index.js';
import type { SendOutcome, UnipileMessaging } from '../providers/unipile/index.js';
import { GroupCommitter } from '../shared/group-commit.js';
import { QueueWorker, queueRetryDelay } from '../shared/queue-worker.js';
import { loadSendAttachments, type SendAttachmentFile } from './queries/send-attachments.js';
import {
  type ClaimedSend,
  claimDueSends,
  lockExpiredAttempts,
  messageIdTaken,
  setMessageSendStatus,
  updateSend,
} from './queries/sends.js';
import {
  applyTransitions,
  publishStatuses,
  type SendTransition,
  type StatusChange,
  type TransitionRequest,
} from './settle.js';

/** What the send worker calls, and its budgets (SEND_* settings). */
export interface SendWorkerOptions {
  db: Db;
  messaging: UnipileMessaging;
  changes: ChangeSignal;
  log: FastifyBaseLogger;
  /** Sends in flight in this worker (SEND_CONCURRENCY). */
  concurrency: number;
  /** SEND_LEASE_MS: longer than the request timeout. */
  leaseMs: number;
  /** SEND_POLL_INTERVAL_MS. */
  pollIntervalMs: number;
  /** SEND_RETRY_MIN_MS: first backoff after a 429 or a refused connection. */
  retryMinMs: number;
  /** SEND_MAX_ATTEMPTS: provider POSTs one send may make, whatever their outcome. */
  maxAttempts: number;
  /** SEND_UNCONFIRMED_RESENDS: resends after a lookup found no copy of an ambiguous attempt. Default 1. */
  unconfirmedResends?: number;
  /** SEND_LOOKUP_DELAY_MS. */
  lookupDelayMs: number;
}

/** How far before the recorded attempt a provider timestamp may lie (clock skew) in a lookup. */
const LOOKUP_SKEW_MS = 60_000;

/**
 * The send queue's worker (docs/sending.md), on the shared queue loop: a claim records each
 * attempt before the request is written, and the provider's answers are applied by a group
 * commit, several sends per transaction. Sends whose attempt was recorded but whose lease expired
 * become `unknown`, and unknown ones are settled by a lookup of the chat's recent messages,
 * resent only when the lookup does not show them, at most `unconfirmedResends` times and within
 * `maxAttempts` POSTs in all; then `failed` (`unconfirmed`), for a person to retry.
 */
export class SendWorker {
  readonly #options: SendWorkerOptions;
  readonly #queue: QueueWorker<ClaimedSend>;
  readonly #settles: GroupCommitter<TransitionRequest, void>;

  constructor(options: SendWorkerOptions) {
    this.#options = options;
    this.#queue = new QueueWorker<ClaimedSend>({
      concurrency: options.concurrency,
      pollIntervalMs: options.pollIntervalMs,
      claim: (limit) => claimDueSends(options.db, limit, options.leaseMs),
      run: (send, signal) => (send.status === 'unknown' ? this.#lookUp(send) : this.#send(send, signal)),
      onPoll: () => this.#expireAttempts(),
      onError: (error, send) =>
        send
          ? options.log.error({ err: error, localId: send.localId }, 'send step failed')
          : options.log.warn({ err: error }, 'send claim failed; retrying on the next poll'),
    });
    // A batch that fails for another reason than an outage is applied again outcome by outcome,
    // so that one bad row does not leave its neighbours to expire into `unknown`.
    this.#settles = new GroupCommitter<TransitionRequest, void>({
      ...transactionBatches,
      flush: async (requests) => {
        this.#emit(await applyTransitions(options.db, requests, options.log));
        return requests.map(() => undefined);
      },
      isolate: (request, error) =>
        options.log.error({ err: error, localId: request.localId }, 'send outcome could not be recorded'),
      maxBatchSize: 100,
    });
  }

  /** Starts polling and claiming. */
  start(): void {
    this.#queue.start();
  }

  /** Asks for a claim round soon (calls during a round coalesce). */
  wake(): void {
    this.#queue.wake();
  }

  /** Stops claiming and abandons requests in flight: their leases expire, as after a crash. */
  async stop(): Promise<void> {
    await this.#queue.stop();
    await this.#settles.drain();
  }

  /** Sends and lookups in flight. */
  get inFlightCount(): number {
    return this.#queue.inFlightCount;
  }

  /** Attempts recorded whose lease ran out with no outcome: maybe sent, so `unknown`. */
  async #expireAttempts(): Promise<void> {
    const lookupAt = new Date(Date.now() + this.#options.lookupDelayMs);
    const published = await transaction(this.#options.db, async (tx) => {
      const expired = await lockExpiredAttempts(tx, 100);
      const changes: StatusChange[] = [];
      for (const send of expired) {
        const error = 'the attempt was interrupted after it was recorded: maybe sent';
        await updateSend(tx, send.localId, { status: 'unknown', lastError: error, nextAttemptAt: lookupAt });
        const message = await setMessageSendStatus(tx, send.localId, 'unknown');
        if (message) changes.push({ message, error });
      }
      return changes.length > 0 ? publishStatuses(tx, changes) : undefined;
    });
    this.#emit(published);
  }

  /** A claimed send: its attempt is already recorded, so the request may be written. */
  async #send(send: ClaimedSend, signal: AbortSignal): Promise<void> {
    let attachments: SendAttachmentFile[] = [];
    if (send.hasAttachments) {
      try {
        attachments = await loadSendAttachments(this.#options.db, send.localId);
      } catch (error) {
        // Nothing was written: queued again with backoff, as after a refused connection.
        this.#options.log.warn({ err: error, localId: send.localId }, "loading a send's files failed");
        const transition = this.#transition(
          { kind: 'not-sent', reason: 'its files could not be loaded' },
          send,
          'files_unavailable',
        );
        await this.#settles.submit({ localId: send.localId, transition, expected: ['sending'] });
        return;
      }
    }
    const outcome = await this.#options.messaging.send(
      { chatId: send.chatId, accountId: send.accountId, text: send.text, quoteId: send.quoteId, attachments },
      signal,
    );
    // Stopping abandons the attempt as a crash would: the lease expiry makes it unknown.
    if (this.#queue.stopped) return;
    const transition = this.#transition(outcome, send);
    await this.#settles.submit({ localId: send.localId, transition, expected: ['sending'] });
  }

  /**
   * What an attempt's outcome makes of the send. Every attempt counts against `maxAttempts`: one
   * not sent (429, connection refused, files unreadable) past it fails as `exhausted` says, or as
   * `unconfirmed` when an earlier attempt of it may have been sent (it was resent after a lookup).
   */
  #transition(
    outcome: SendOutcome,
    send: ClaimedSend,
    exhausted: SendFailureReason = 'attempts_exhausted',
  ): SendTransition {
    const attempts = send.attempts;
    switch (outcome.kind) {
      case 'sent':
        return { to: 'sent', providerId: outcome.messageId, settledBy: 'response' };
      case 'refused':
        return { to: 'failed', reason: 'refused', error: outcome.reason, statusCode: outcome.status };
      case 'maybe-sent':
        return {
          to: 'unknown',
          error: outcome.reason,
          statusCode: outcome.status ?? null,
          lookupAt: new Date(Date.now() + this.#options.lookupDelayMs),
        };
      case 'throttled':
      case 'not-sent': {
        const error = outcome.kind === 'throttled' ? 'rate limited (429)' : `not sent: ${outcome.reason}`;
        const statusCode = outcome.kind === 'throttled' ? 429 : null;
        if (attempts >= this.#options.maxAttempts) {
          const reason =
            send.unconfirmedResends > 0
              ? 'unconfirmed'
              : outcome.kind === 'throttled'
                ? 'rate_limited'
                : exhausted;
          return { to: 'failed', reason, error, statusCode };
        }
        const backoff = queueRetryDelay(this.#options.retryMinMs, attempts);
        const delay = outcome.kind === 'throttled' ? Math.max(outcome.retryAfterMs ?? 0, backoff) : backoff;
        return { to: 'queued', error, statusCode, at: new Date(Date.now() + delay) };
      }
    }
  }

  /**
   * An unknown send: the chat's recent messages show whether the provider has it (a message the
   * account sent, with its text, from the attempt on, whose id no other send holds). Found:
   * `sent`. Not found: sent again, unless it was resent after a lookup `unconfirmedResends` times
   * already or used its attempts, as a listing that lags or a text the provider normalised would
   * otherwise make the recipient get it again and again; then `failed` (`unconfirmed`).
   */
  async #lookUp(send: ClaimedSend): Promise<void> {
    let seen: Awaited<ReturnType<UnipileMessaging['recentMessages']>>;
    try {
      seen = await this.#options.messaging.recentMessages(send.chatId, send.accountId);
    } catch (error) {
      this.#options.log.warn({ err: error, localId: send.localId }, 'send lookup failed; retrying later');
      return; // The claim's lease end is the next lookup time.
    }
    const since = (send.attemptStartedAt?.getTime() ?? 0) - LOOKUP_SKEW_MS;
    let found: string | undefined;
    // Oldest first, so two alike sends take two alike messages in order.
    for (const message of [...seen].reverse()) {
      if (!message.isSender || message.text !== send.text) continue;
      if (message.timestamp && Date.parse(message.timestamp) < since) continue;
      if (await messageIdTaken(this.#options.db, send.accountId, message.id)) continue;
      found = message.id;
      break;
    }
    await this.#settles.submit({
      localId: send.localId,
      transition: found ? { to: 'sent', providerId: found, settledBy: 'lookup' } : this.#notFound(send),
      expected: ['unknown'],
    });
  }

  /** A lookup found no copy: resend within the budgets, else `failed` (`unconfirmed`). */
  #notFound(send: ClaimedSend): SendTransition {
    const resends = this.#options.unconfirmedResends ?? 1;
    if (send.unconfirmedResends >= resends || send.attempts >= this.#options.maxAttempts) {
      return {
        to: 'failed',
        reason: 'unconfirmed',
        error: `the provider did not confirm it and its chat does not show it after ${send.attempts} attempt(s): it may have been sent; check the chat before retrying`,
        statusCode: null,
      };
    }
    return {
      to: 'queued',
      error: 'the lookup did not show it: sending again',
      statusCode: null,
      at: new Date(),
      unconfirmed: true,
    };
  }

  #emit(published: Published | undefined): void {
    if (published && (published.realtimeSeq !== undefined || published.deliveries > 0)) {
      this.#options.changes.emit(published);
    }
  }
}
