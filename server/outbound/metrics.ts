import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How an attempt ended for its delivery: delivered, to be retried, or out of attempts. */
export type AttemptOutcome = 'succeeded' | 'retry' | 'dead';

/** Outbound metrics on the app's registry. */
export class OutboundMetrics {
  readonly deliveries: Counter<'outcome'>;
  readonly attemptSeconds: Histogram;
  readonly endpointsDisabled: Counter;
  readonly backlog: Gauge;
  readonly recordBatchSize: Histogram;

  /** @param readBacklog counts deliveries waiting to be sent, read on every scrape. */
  constructor(registry: Registry, readBacklog: () => Promise<number>) {
    this.deliveries = new Counter({
      name: 'hookline_outbound_attempts_total',
      help: 'Outbound delivery attempts by outcome: succeeded, retry (scheduled again) or dead',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.attemptSeconds = new Histogram({
      name: 'hookline_outbound_attempt_duration_seconds',
      help: 'Duration of outbound delivery attempts, connection included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers: [registry],
    });
    this.endpointsDisabled = new Counter({
      name: 'hookline_outbound_endpoints_disabled_total',
      help: 'Endpoints disabled after a 410 or failing for OUTBOUND_DISABLE_AFTER_MS',
      registers: [registry],
    });
    this.backlog = new Gauge({
      name: 'hookline_outbound_backlog',
      help: 'Deliveries pending, scheduled for retry or in flight',
      registers: [registry],
      async collect() {
        this.set(await readBacklog());
      },
    });
    this.recordBatchSize = new Histogram({
      name: 'hookline_outbound_record_batch_size',
      help: 'Attempts recorded per statement (settle and log)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
  }

  recordAttempt(outcome: AttemptOutcome, durationMs: number): void {
    this.deliveries.inc({ outcome });
    this.attemptSeconds.observe(durationMs / 1000);
  }
}
