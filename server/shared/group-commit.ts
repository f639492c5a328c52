import { HooklineError } from '../errors.js';

/** How a {@link GroupCommitter} batches items into commits. */
export interface GroupCommitOptions<Item, Result> {
  /**
   * Commits a batch, returning one result per item in order. Throwing fails every item of the
   * batch with that error.
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
 * Each submitter's promise settles only when its own batch has committed or failed.
 */
export class GroupCommitter<Item, Result> {
  readonly #flush: (items: Item[]) => Promise<Result[]>;
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
      const results = await this.#flush(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => {
        pending.resolve(results[index] as Result);
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
