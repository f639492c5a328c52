import { type ClaimedDelivery, claimDueDeliveries } from '../db/deliveries.js';
import { type AttemptContext, attemptDelivery } from './attempt.js';
import { SendAborted } from './sender.js';

export interface DeliveryWorkerOptions {
  /** Requests in flight in this worker, all endpoints together. */
  concurrency: number;
  /** Requests in flight to any one endpoint. */
  endpointConcurrency: number;
  /** How long a claim stays ours; longer than the request timeout. */
  leaseMs: number;
  /** Claim round when nothing woke the worker. */
  pollIntervalMs: number;
}

const RATE_WINDOW_MS = 1000;

/**
 * Claims due deliveries and sends them. Wakes on `wake()` (commits in this process, NOTIFY from
 * others), on a poll timer, and whenever a slot frees. Budgets are per endpoint, so an endpoint
 * that is slow or rate limited uses only its own slots and never starves the others.
 */
export class DeliveryWorker {
  readonly #context: AttemptContext;
  readonly #options: DeliveryWorkerOptions;
  readonly #inFlight = new Map<string, number>();
  /** Send times within the last second, per endpoint, for `rateLimitPerSecond`. */
  readonly #recentSends = new Map<string, number[]>();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #pollTimer: NodeJS.Timeout | undefined;
  #rateTimer: NodeJS.Timeout | undefined;
  #claiming = false;
  #wakeScheduled = false;
  #wokenWhileClaiming = false;
  #stopped = true;

  constructor(context: AttemptContext, options: DeliveryWorkerOptions) {
    this.#context = context;
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#pollTimer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.wake();
  }

  /** Asks for a claim round soon; cheap to call often (calls during a round coalesce). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#claiming) {
      this.#wokenWhileClaiming = true;
      return;
    }
    void this.#claimRound();
  }

  /**
   * Stops claiming and aborts requests in flight without recording them: like a crash, their
   * leases expire and another worker re-sends them with the same webhook-id.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#rateTimer);
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  get inFlightCount(): number {
    return this.#running.size;
  }

  async #claimRound(): Promise<void> {
    this.#claiming = true;
    try {
      do {
        this.#wokenWhileClaiming = false;
        const free = this.#options.concurrency - this.#running.size;
        if (free <= 0) return;
        const claimed = await claimDueDeliveries(this.#context.db, {
          limit: free,
          leaseMs: this.#options.leaseMs,
          ...this.#budgets(),
        });
        for (const delivery of claimed) this.#launch(delivery);
        if (claimed.length === free) this.#wokenWhileClaiming = true;
      } while (this.#wokenWhileClaiming && !this.#stopped);
    } catch (error) {
      if (!this.#stopped)
        this.#context.log.warn({ err: error }, 'outbound claim failed; retrying on the next poll');
    } finally {
      this.#claiming = false;
    }
  }

  #budgets() {
    const now = Date.now();
    const inFlight = Object.fromEntries(this.#inFlight);
    const sentLastSecond: Record<string, number> = {};
    for (const [endpointId, times] of this.#recentSends) {
      const recent = times.filter((time) => now - time < RATE_WINDOW_MS);
      if (recent.length === 0) this.#recentSends.delete(endpointId);
      else {
        this.#recentSends.set(endpointId, recent);
        sentLastSecond[endpointId] = recent.length;
      }
    }
    const saturated = Object.keys(inFlight).filter(
      (id) => (inFlight[id] ?? 0) >= this.#options.endpointConcurrency,
    );
    return { perEndpoint: this.#options.endpointConcurrency, inFlight, sentLastSecond, saturated };
  }

  #launch(delivery: ClaimedDelivery): void {
    const endpointId = delivery.endpointId;
    this.#inFlight.set(endpointId, (this.#inFlight.get(endpointId) ?? 0) + 1);
    const times = this.#recentSends.get(endpointId) ?? [];
    times.push(Date.now());
    this.#recentSends.set(endpointId, times);
    const task = attemptDelivery(this.#context, delivery, this.#abort.signal)
      .then(
        () => {},
        (error: unknown) => {
          if (error instanceof SendAborted || this.#stopped) return;
          this.#context.log.error(
            { err: error, deliveryId: delivery.id },
            'outbound attempt could not be recorded',
          );
        },
      )
      .finally(() => {
        this.#running.delete(task);
        const left = (this.#inFlight.get(endpointId) ?? 1) - 1;
        if (left === 0) this.#inFlight.delete(endpointId);
        else this.#inFlight.set(endpointId, left);
        this.#wakeSoon();
        this.#wakeWhenRateWindowMoves();
      });
    this.#running.add(task);
  }

  /** Completions in the same turn of the event loop share one claim round instead of one each. */
  #wakeSoon(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.wake();
    });
  }

  /** A rate-limited endpoint gets budget back a second after its sends: wake then. */
  #wakeWhenRateWindowMoves(): void {
    if (this.#rateTimer || this.#stopped) return;
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined;
      this.wake();
    }, RATE_WINDOW_MS);
  }
}
