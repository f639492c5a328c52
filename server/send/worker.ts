import type { FastifyBaseLogger } from 'fastify';
import type { ChangeSignal } from '../db/change-signal.js';
import type { Db } from '../db/database.js';
import type { Published } from '../db/outboxes.js';
import { loadSendAttachments } from '../db/send-attachments.js';
import {
  type ClaimedSend,
  claimDueSends,
  lockExpiredAttempts,
  messageIdTaken,
  recordSendAttempt,
  setMessageSendStatus,
  updateSend,
} from '../db/sends.js';
import { transaction } from '../db/transaction.js';
import type { SendOutcome, UnipileMessaging } from '../providers/unipile/index.js';
import { publishStatuses, type SendTransition, type StatusChange, transitionSend } from './settle.js';

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
  /** SEND_MAX_ATTEMPTS. */
  maxAttempts: number;
  /** SEND_LOOKUP_DELAY_MS. */
  lookupDelayMs: number;
}

const RETRY_MAX_MS = 5 * 60_000;
/** How far before the recorded attempt a provider timestamp may lie (clock skew) in a lookup. */
const LOOKUP_SKEW_MS = 60_000;

/**
 * The send queue's worker (docs/sending.md): claims due sends (SKIP LOCKED), records each attempt
 * before writing it, and turns the provider's answer into a transition. Sends whose attempt was
 * recorded but whose lease expired become `unknown`, and unknown ones are settled by a lookup of
 * the chat's recent messages, resent only when the lookup shows they were not sent.
 */
export class SendWorker {
  readonly #options: SendWorkerOptions;
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #claiming = false;
  #again = false;
  #stopped = true;

  constructor(options: SendWorkerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.wake();
  }

  /** Asks for a claim round soon (calls during a round coalesce). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    void this.#round();
  }

  /** Stops claiming and abandons requests in flight: their leases expire, as after a crash. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  get inFlightCount(): number {
    return this.#running.size;
  }

  async #round(): Promise<void> {
    this.#claiming = true;
    try {
      await this.#expireAttempts();
      do {
        this.#again = false;
        const free = this.#options.concurrency - this.#running.size;
        if (free <= 0) return;
        const claimed = await claimDueSends(this.#options.db, free, this.#options.leaseMs);
        for (const send of claimed) this.#launch(send);
        if (claimed.length === free) this.#again = true;
      } while (this.#again && !this.#stopped);
    } catch (error) {
      if (!this.#stopped)
        this.#options.log.warn({ err: error }, 'send claim failed; retrying on the next poll');
    } finally {
      this.#claiming = false;
    }
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

  #launch(send: ClaimedSend): void {
    const work = send.status === 'unknown' ? this.#lookUp(send) : this.#send(send);
    const task = work
      .catch((error: unknown) => {
        if (!this.#stopped)
          this.#options.log.error({ err: error, localId: send.localId }, 'send step failed');
      })
      .finally(() => {
        this.#running.delete(task);
        setImmediate(() => this.wake());
      });
    this.#running.add(task);
  }

  async #send(send: ClaimedSend): Promise<void> {
    // Loaded before the attempt is recorded: a failed load leaves the send "never sent".
    const attachments = await loadSendAttachments(this.#options.db, send.localId);
    if (!(await recordSendAttempt(this.#options.db, send.localId, this.#options.leaseMs))) return;
    const outcome = await this.#options.messaging.send(
      { chatId: send.chatId, accountId: send.accountId, text: send.text, quoteId: send.quoteId, attachments },
      this.#abort.signal,
    );
    // Stopping abandons the attempt as a crash would: the lease expiry makes it unknown.
    if (this.#stopped) return;
    const transition = this.#transition(outcome, send.attempts + 1);
    this.#emit(
      await transitionSend(this.#options.db, send.localId, transition, ['sending'], this.#options.log),
    );
  }

  #transition(outcome: SendOutcome, attempts: number): SendTransition {
    switch (outcome.kind) {
      case 'sent':
        return { to: 'sent', providerId: outcome.messageId, settledBy: 'response' };
      case 'refused':
        return { to: 'failed', error: outcome.reason, statusCode: outcome.status };
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
        if (attempts >= this.#options.maxAttempts) return { to: 'failed', error, statusCode };
        const backoff = Math.min(RETRY_MAX_MS, this.#options.retryMinMs * 2 ** (attempts - 1));
        const delay = outcome.kind === 'throttled' ? Math.max(outcome.retryAfterMs ?? 0, backoff) : backoff;
        return { to: 'queued', error, statusCode, at: new Date(Date.now() + delay) };
      }
    }
  }

  /**
   * An unknown send: the chat's recent messages show whether the provider has it (a message the
   * account sent, with its text, from the attempt on, whose id no other send holds). Found:
   * `sent`. Not found: queued again, since only now is it known not to have been sent.
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
    const transition: SendTransition = found
      ? { to: 'sent', providerId: found, settledBy: 'lookup' }
      : { to: 'queued', error: 'the lookup showed it was not sent', statusCode: null, at: new Date() };
    this.#emit(await transitionSend(this.#options.db, send.localId, transition, ['unknown']));
  }

  #emit(published: Published | undefined): void {
    if (published && (published.realtimeSeq !== undefined || published.deliveries > 0)) {
      this.#options.changes.emit(published);
    }
  }
}
