/** What a queue needs from its feature: how to claim due jobs and what one attempt is. */
export interface QueueWorkerOptions<Job> {
  /** Jobs in flight at once. */
  concurrency: number;
  /** Claim round when nothing woke the worker: covers lost wake-ups and retries coming due. */
  pollIntervalMs: number;
  /**
   * Claims up to `limit` due jobs (lease, `FOR UPDATE SKIP LOCKED`); each is then run. A claim
   * that fills `limit` is followed by another at once.
   */
  claim(limit: number): Promise<Job[]>;
  /**
   * One attempt. `signal` aborts when the worker stops: the attempt is then abandoned, as after
   * a crash, and its lease decides what happens to it. A rejection is reported to `onError`.
   */
  run(job: Job, signal: AbortSignal): Promise<void>;
  /** Housekeeping before the claim of each poll and of the first round (expired leases). */
  onPoll?(): Promise<void>;
  /** A failed claim, housekeeping or attempt (not reported once stopping). */
  onError(error: unknown, job?: Job): void;
}

/**
 * The loop every durable queue runs (the send queue and outbound deliveries): claim due jobs up
 * to the free slots, run them, and claim again when a slot frees, when `wake()` is called (a
 * commit in this process, a NOTIFY from another) or on the poll. Wake-ups during a round
 * coalesce into one more round, and completions in the same turn of the event loop share one.
 */
export class QueueWorker<Job> {
  readonly #options: QueueWorkerOptions<Job>;
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #pollTimer: NodeJS.Timeout | undefined;
  #claiming = false;
  #again = false;
  #poll = false;
  #wakeScheduled = false;
  #stopped = true;

  constructor(options: QueueWorkerOptions<Job>) {
    this.#options = options;
  }

  /** Starts the poll and a first round (with housekeeping). */
  start(): void {
    this.#stopped = false;
    this.#pollTimer = setInterval(() => this.#wakeForPoll(), this.#options.pollIntervalMs);
    this.#wakeForPoll();
  }

  /** Asks for a claim round soon; cheap to call often. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#again = true;
      return;
    }
    void this.#round();
  }

  /** Stops claiming and aborts attempts in flight; resolves once they have all returned. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Attempts in flight. */
  get inFlightCount(): number {
    return this.#running.size;
  }

  #wakeForPoll(): void {
    this.#poll = true;
    this.wake();
  }

  async #round(): Promise<void> {
    this.#claiming = true;
    try {
      if (this.#poll && this.#options.onPoll) {
        this.#poll = false;
        await this.#options.onPoll();
      }
      do {
        this.#again = false;
        const free = this.#options.concurrency - this.#running.size;
        if (free <= 0) return;
        const claimed = await this.#options.claim(free);
        for (const job of claimed) this.#launch(job);
        if (claimed.length === free) this.#again = true;
      } while (this.#again && !this.#stopped);
    } catch (error) {
      if (!this.#stopped) this.#options.onError(error);
    } finally {
      this.#claiming = false;
    }
  }

  #launch(job: Job): void {
    const task = this.#options
      .run(job, this.#abort.signal)
      .catch((error: unknown) => {
        if (!this.#stopped) this.#options.onError(error, job);
      })
      .finally(() => {
        this.#running.delete(task);
        this.#wakeSoon();
      });
    this.#running.add(task);
  }

  #wakeSoon(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.wake();
    });
  }
}

/** The longest wait between two attempts of one queued job. */
const RETRY_MAX_MS = 5 * 60_000;

/**
 * How long a queued job waits after its `attempts`-th failed attempt (1 for the first):
 * `retryMinMs`, doubling per attempt, at most five minutes. The send and read-status queues share
 * it because both spend the same provider budget (SEND_RETRY_MIN_MS).
 */
export function queueRetryDelay(retryMinMs: number, attempts: number): number {
  return Math.min(RETRY_MAX_MS, retryMinMs * 2 ** (attempts - 1));
}
