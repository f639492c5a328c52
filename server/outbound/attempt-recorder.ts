import type { FastifyBaseLogger } from 'fastify';
import type { Db, Executor } from '../db/database.js';
import { transaction, transactionBatches } from '../db/transaction.js';
import { GroupCommitter } from '../shared/group-commit.js';
import type { OutboundMetrics } from './metrics.js';
import { operationalEvents } from './operational-events.js';
import type { DeliveryAttemptRow } from './queries/deliveries.js';
import { type FinishedAttempt, type RecordedAttempt, recordAttempts } from './queries/delivery-attempts.js';
import { markEndpointFailing, markEndpointHealthy } from './queries/endpoints.js';
import { enqueueOperationalEvents } from './queries/outbound-controls.js';

/** What the attempt recorder writes with, and how it batches (OUTBOUND_* settings). */
export interface AttemptRecorderOptions {
  db: Db;
  /** How long an endpoint may fail before it is disabled (OUTBOUND_DISABLE_AFTER_MS). */
  disableAfterMs: number;
  metrics: OutboundMetrics;
  log: FastifyBaseLogger;
  /** Most attempts recorded in one statement (and transaction). Default 64. */
  maxBatchSize?: number;
  /** Most batches being recorded at once. Default 2. */
  concurrency?: number;
}

/** A finished attempt, and what its endpoint's health depends on. */
export interface AttemptToRecord {
  attempt: FinishedAttempt;
  endpointId: string;
  /** The delivery's `webhook-id` and event type, for the `delivery.exhausted` event. */
  webhookId: string;
  eventType: string;
  /** The endpoint's failing clock ran when the delivery was claimed: a success must stop it. */
  endpointFailing: boolean;
  /** The endpoint answered 410 Gone: it is disabled at once. */
  gone: boolean;
}

/** What recording one attempt did. */
export interface RecordedOutcome {
  /** The logged attempt, or undefined when the delivery was deleted while it was sent. */
  attempt: DeliveryAttemptRow | undefined;
  /** Why this attempt disabled its endpoint, if it did. */
  disabledReason: string | undefined;
}

/** Only a success on a healthy endpoint leaves the endpoint row alone. */
const touchesEndpoint = (item: AttemptToRecord) =>
  item.attempt.next.status !== 'succeeded' || item.endpointFailing;

/**
 * Group-commits finished attempts: attempts that finish while a batch is being recorded share the
 * next one, so a burst costs one statement per batch instead of a transaction per attempt. Each
 * caller resolves once its own batch has committed. A batch that lost a race is recorded again; one
 * that fails for any other reason but an outage is recorded again item by item, so one bad attempt
 * never fails its neighbours; in an outage the attempts are rejected, their leases expire and they
 * are sent again.
 */
export class AttemptRecorder {
  readonly #options: AttemptRecorderOptions;
  readonly #committer: GroupCommitter<AttemptToRecord, RecordedOutcome>;

  constructor(options: AttemptRecorderOptions) {
    this.#options = options;
    this.#committer = new GroupCommitter({
      ...transactionBatches,
      flush: (items) => this.#commit(items),
      isolate: true,
      onIsolate: (error, batchSize) =>
        options.log.error(
          { err: error, batchSize },
          'outbound attempt batch failed; recording its attempts one by one',
        ),
      maxBatchSize: options.maxBatchSize ?? 64,
      concurrency: options.concurrency ?? 2,
    });
  }

  /** Settles the attempt's delivery, logs it and updates its endpoint; resolves after commit. */
  record(item: AttemptToRecord): Promise<RecordedOutcome> {
    return this.#committer.submit(item);
  }

  /** Resolves once every attempt already submitted has been committed or failed. */
  drain(): Promise<void> {
    return this.#committer.drain();
  }

  async #commit(items: AttemptToRecord[]): Promise<RecordedOutcome[]> {
    const work = async (executor: Executor) => {
      const recorded = await recordAttempts(
        executor,
        items.map((item) => item.attempt),
      );
      const disabledReasons = await this.#updateEndpoints(executor, items, recorded);
      await enqueueOperationalEvents(executor, operationalEvents(items, recorded, disabledReasons));
      return recorded.map((answer, index) => ({
        attempt: answer.attempt,
        disabledReason: disabledReasons[index],
      }));
    };
    // The one statement is atomic on its own; a transaction is only needed to update endpoints
    // with it, which a batch of successes to healthy endpoints (the common case) never does.
    const recorded = items.some(touchesEndpoint)
      ? await transaction(this.#options.db, work)
      : await work(this.#options.db);
    this.#options.metrics.recordBatchSize.observe(items.length);
    return recorded;
  }

  /**
   * The endpoints' health after the logged attempts (none for a deleted delivery): a success
   * stops a running failing clock, a failure starts it and may disable the endpoint.
   *
   * @returns per item, the reason its attempt disabled the endpoint, if it did.
   */
  async #updateEndpoints(
    executor: Executor,
    items: AttemptToRecord[],
    recorded: RecordedAttempt[],
  ): Promise<Array<string | undefined>> {
    const reasons: Array<string | undefined> = items.map(() => undefined);
    // Every batch locks endpoint rows in one order (by id, then batch order), so two batches that
    // touch the same endpoints cannot deadlock, and each endpoint sees its attempts in order.
    const order = [...items.keys()]
      .filter((index) => recorded[index]!.attempt !== undefined && touchesEndpoint(items[index]!))
      .sort((a, b) => {
        const [first, second] = [items[a]!.endpointId, items[b]!.endpointId];
        return first < second ? -1 : first > second ? 1 : a - b;
      });
    for (const index of order) {
      const item = items[index]!;
      if (item.attempt.next.status === 'succeeded') {
        await markEndpointHealthy(executor, item.endpointId);
      } else {
        reasons[index] = await markEndpointFailing(executor, item.endpointId, {
          at: item.attempt.attemptedAt,
          disableAfterMs: this.#options.disableAfterMs,
          gone: item.gone,
        });
      }
    }
    return reasons;
  }
}
