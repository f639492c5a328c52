import { HooklineError } from '../errors.js';

/**
 * How a {@link GroupCommitter} tells a failed batch's error apart, when its batches are
 * transactions (db/transaction.ts's `transactionBatches` holds Postgres's answer).
 */
export interface BatchFailures {
  /** Times a batch that lost a race (`isConflict`) is flushed again at once. Default 0. */
  conflictRetries?: number;
  /** A lost race (deadlock, serialization failure): flushing again can succeed at once. */
  isConflict?: (error: unknown) => boolean;
  /**
   * An outage: the batch fails with its error as it is, never isolated, since each item alone
   * would only meet the same failure. Default: no error is one.
   */
  isUnavailable?: (error: unknown) => boolean;
}

/** How a {@link GroupCommitter} batches items into commits. */
export interface GroupCommitOptions<Item, Result> extends BatchFailures {
  /**
   * Commits a batch, returning one result per item in order. Throwing fails every item of the
   * batch with that error, unless a conflict retry or `isolate` says otherwise.
   */
  flush: (items: Item[]) => Promise<Result[]>;
  /** Most items in one batch (one transaction). Default 200. */
  maxBatchSize?: number;
  /** Most batches committing at once. Default 2. */
  concurrency?: number;
  /** Most items waiting for a batch; beyond this `submit` fails fast with 503. Default 20,000. */
  maxQueued?: number;
  /**
   * While another batch is still committing, a new batch starts only once this many items wait
   * (or after `overlapMaxWaitMs`). A batch of a few items costs its transaction almost as much
   * as a full one, and started beside a busy one it takes their share of the CPU from both.
   * When nothing is committing, a batch starts at once whatever its size. Default 1 (no wait).
   */
  overlapMinBatch?: number;
  /** The longest an item waits for `overlapMinBatch` before its batch starts anyway. Default 0. */
  overlapMaxWaitMs?: number;
  /**
   * Batch isolation: when a batch fails (after its conflict retries) with an error that is not an
   * outage, each of its items is flushed alone, one after the other, so that one bad item fails
   * alone and not its neighbours. An item that fails alone (a batch of one included) rejects with
   * its own error, or, given a function, settles with what that makes of the item and its error.
   * An outage met alone fails that item and those not yet flushed with it. Default false.
   */
  isolate?: boolean | ((item: Item, error: unknown) => Result | Promise<Result>);
  /** Called with a batch's error before its items are flushed alone (to log it). */
  onIsolate?: (error: unknown, batchSize: number) => void;
}

interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while a batch is committing wait and then share the next
 * transaction, so a burst costs a few commits rather than one per request, while a lone request
 * at low load is flushed at once (after the current I/O phase, to gather its neighbours). Like
 * Postgres's own commit_delay with commit_siblings, waiting for company pays only when another
 * batch is committing: see `overlapMinBatch`.
 * Each submitter's promise settles only when its own batch has committed or failed. Options
 * retry a batch that lost a race (`conflictRetries`) and isolate a failed one (`isolate`).
 */
export class GroupCommitter<Item, Result> {
  readonly #flush: (items: Item[]) => Promise<Result[]>;
  readonly #failures: BatchFailures;
  readonly #isolate: GroupCommitOptions<Item, Result>['isolate'];
  readonly #onIsolate: GroupCommitOptions<Item, Result>['onIsolate'];
  readonly #maxBatchSize: number;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #overlapMinBatch: number;
  readonly #overlapMaxWaitMs: number;
  readonly #queue: Pending<Item, Result>[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #scheduled = false;
  /** Starts a batch regardless of its size once the oldest waiting item has waited long enough. */
  #overlapTimer: NodeJS.Timeout | undefined;

  constructor(options: GroupCommitOptions<Item, Result>) {
    this.#flush = options.flush;
    this.#failures = options;
    this.#isolate = options.isolate;
    this.#onIsolate = options.onIsolate;
    this.#maxBatchSize = options.maxBatchSize ?? 200;
    this.#concurrency = options.concurrency ?? 2;
    this.#maxQueued = options.maxQueued ?? 20_000;
    this.#overlapMinBatch = Math.min(options.overlapMinBatch ?? 1, this.#maxBatchSize);
    this.#overlapMaxWaitMs = options.overlapMaxWaitMs ?? 0;
  }

  /** Items waiting for a batch (not yet committing). */
  get queued(): number {
    return this.#queue.length;
  }

  submit(item: Item): Promise<Result> {
    if (this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new HooklineError('HL_ERR_UNAVAILABLE', 'Too much work queued; retry later', {
          details: { queued: this.#queue.length },
        }),
      );
    }
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every submitted item has been committed or failed. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#pump();
      await Promise.race(this.#inFlight);
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(overdue = false): void {
    while (this.#inFlight.size < this.#concurrency && this.#queue.length > 0) {
      if (!overdue && this.#inFlight.size > 0 && this.#queue.length < this.#overlapMinBatch) {
        this.#overlapTimer ??= setTimeout(() => {
          this.#overlapTimer = undefined;
          this.#pump(true);
        }, this.#overlapMaxWaitMs);
        return;
      }
      overdue = false;
      clearTimeout(this.#overlapTimer);
      this.#overlapTimer = undefined;
      const batch = this.#queue.splice(0, this.#maxBatchSize);
      const running = this.#run(batch).finally(() => {
        this.#inFlight.delete(running);
        if (this.#queue.length > 0) this.#pump();
      });
      this.#inFlight.add(running);
    }
  }

  async #run(batch: Pending<Item, Result>[]): Promise<void> {
    try {
      const results = await this.#flushRetrying(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => {
        pending.resolve(results[index] as Result);
      });
    } catch (error) {
      if (!this.#isolate || this.#failures.isUnavailable?.(error)) {
        for (const pending of batch) pending.reject(error);
      } else if (batch.length === 1) {
        await this.#failedAlone(batch[0]!, error);
      } else {
        await this.#runEachAlone(batch, error);
      }
    }
  }

  /** Batch isolation: flushes each item of a failed batch on its own, in order. */
  async #runEachAlone(batch: Pending<Item, Result>[], batchError: unknown): Promise<void> {
    let outage: { error: unknown } | undefined;
    try {
      this.#onIsolate?.(batchError, batch.length);
    } catch {
      // A hook that throws must not leave the batch's submitters waiting.
    }
    for (const pending of batch) {
      if (outage) {
        pending.reject(outage.error);
        continue;
      }
      try {
        const [result] = await this.#flushRetrying([pending.item]);
        pending.resolve(result as Result);
      } catch (error) {
        if (this.#failures.isUnavailable?.(error)) {
          outage = { error };
          pending.reject(error);
        } else {
          await this.#failedAlone(pending, error);
        }
      }
    }
  }

  /** An item that failed on its own: its error, or what the `isolate` function makes of it. */
  async #failedAlone(pending: Pending<Item, Result>, error: unknown): Promise<void> {
    if (typeof this.#isolate !== 'function') {
      pending.reject(error);
      return;
    }
    try {
      pending.resolve(await this.#isolate(pending.item, error));
    } catch (failed) {
      pending.reject(failed);
    }
  }

  #flushRetrying(items: Item[]): Promise<Result[]> {
    return retryConflicts(() => this.#flush(items), this.#failures);
  }
}

/**
 * Runs `attempt`, and again, up to `conflictRetries` times, while it fails with a conflict
 * (`isConflict`): the work lost a race and can succeed at once. Other errors are thrown as they are.
 */
export async function retryConflicts<T>(attempt: () => Promise<T>, failures: BatchFailures): Promise<T> {
  for (let retried = 0; ; retried++) {
    try {
      return await attempt();
    } catch (error) {
      if (retried >= (failures.conflictRetries ?? 0) || !failures.isConflict?.(error)) throw error;
    }
  }
}
