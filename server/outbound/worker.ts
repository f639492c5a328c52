import { QueueWorker } from '../shared/queue-worker.js';
import { type AttemptContext, attemptDelivery } from './attempt.js';
import { type ClaimedDelivery, claimDueDeliveries } from './queries/deliveries.js';
import { SendAborted } from './sender.js';

/** The delivery worker's budgets and timings (OUTBOUND_* settings). */
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
 * Claims due deliveries and sends them, on the shared queue loop (server/shared/queue-worker.ts):
 * it wakes on `wake()` (commits in this process, NOTIFY from others), on a poll timer, and
 * whenever a slot frees. Budgets are per endpoint, so an endpoint that is slow or rate limited
 * uses only its own slots and never starves the others.
 */
export class DeliveryWorker {
  readonly #options: DeliveryWorkerOptions;
  readonly #queue: QueueWorker<ClaimedDelivery>;
  readonly #inFlight = new Map<string, number>();
  /** Send times within the last second, per endpoint, for `rateLimitPerSecond`. */
  readonly #recentSends = new Map<string, number[]>();
  #rateTimer: NodeJS.Timeout | undefined;

  constructor(context: AttemptContext, options: DeliveryWorkerOptions) {
    this.#options = options;
    this.#queue = new QueueWorker<ClaimedDelivery>({
      concurrency: options.concurrency,
      pollIntervalMs: options.pollIntervalMs,
      claim: (limit) =>
        claimDueDeliveries(context.db, { limit, leaseMs: options.leaseMs, ...this.#budgets() }),
      run: (delivery, signal) => this.#attempt(context, delivery, signal),
      onError: (error, delivery) => {
        if (error instanceof SendAborted) return;
        if (delivery)
          context.log.error(
            { err: error, deliveryId: delivery.id },
            'outbound attempt could not be recorded',
          );
        else context.log.warn({ err: error }, 'outbound claim failed; retrying on the next poll');
      },
    });
  }

  /** Starts polling and claiming. */
  start(): void {
    this.#queue.start();
  }

  /** Asks for a claim round soon; cheap to call often (calls during a round coalesce). */
  wake(): void {
    this.#queue.wake();
  }

  /**
   * Stops claiming and aborts requests in flight without recording them: like a crash, their
   * leases expire and another worker re-sends them with the same webhook-id.
   */
  async stop(): Promise<void> {
    clearTimeout(this.#rateTimer);
    await this.#queue.stop();
  }

  /** Deliveries in flight. */
  get inFlightCount(): number {
    return this.#queue.inFlightCount;
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

  /** One delivery attempt, counted against its endpoint's budgets while in flight. */
  async #attempt(context: AttemptContext, delivery: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const endpointId = delivery.endpointId;
    this.#inFlight.set(endpointId, (this.#inFlight.get(endpointId) ?? 0) + 1);
    const times = this.#recentSends.get(endpointId) ?? [];
    times.push(Date.now());
    this.#recentSends.set(endpointId, times);
    try {
      await attemptDelivery(context, delivery, signal);
    } finally {
      const left = (this.#inFlight.get(endpointId) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(endpointId);
      else this.#inFlight.set(endpointId, left);
      this.#wakeWhenRateWindowMoves();
    }
  }

  /** A rate-limited endpoint gets budget back a second after its sends: wake then. */
  #wakeWhenRateWindowMoves(): void {
    if (this.#rateTimer || this.#queue.stopped) return;
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined;
      this.wake();
    }, RATE_WINDOW_MS);
  }
}
