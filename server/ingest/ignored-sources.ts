import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';

/** One warning per source per this long: a misconfigured source is steady traffic. */
const WARN_INTERVAL_MS = 60 * 60 * 1000;

/** Most distinct sources remembered for throttling; beyond, they share one entry. */
const MAX_SOURCES = 100;

/** What IgnoredSources counts with, logs to and advises. */
export interface IgnoredSourcesOptions {
  logger: FastifyBaseLogger;
  metrics: Registry;
  /** What the warning tells operators to change on the provider (ProviderWebhook.ignoredAdvice). */
  advice: (source: string) => string;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * Accounts for webhooks from provider sources Hookline does not handle (email, users, hosted-auth
 * callbacks…): they are answered 200 so the provider stops retrying, counted per source in
 * `hookline_ingest_ignored_total`, and logged as a warning at most once per source per hour,
 * saying what to change on the provider.
 */
export class IgnoredSources {
  readonly #logger: FastifyBaseLogger;
  readonly #now: () => number;
  readonly #advice: (source: string) => string;
  readonly #counter: Counter<'source'>;
  readonly #lastWarned = new Map<string, number>();

  constructor(options: IgnoredSourcesOptions) {
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#advice = options.advice;
    this.#counter = new Counter({
      name: 'hookline_ingest_ignored_total',
      help: 'Provider webhooks from sources Hookline does not handle, by source (`event`, or `none`).',
      labelNames: ['source'],
      registers: [options.metrics],
    });
  }

  /** Counts one ignored webhook from `source` and warns if this source has not warned lately. */
  record(source: string): void {
    const key = this.#lastWarned.has(source) || this.#lastWarned.size < MAX_SOURCES ? source : 'other';
    this.#counter.inc({ source: key });
    const now = this.#now();
    const last = this.#lastWarned.get(key);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
    this.#lastWarned.set(key, now);
    this.#logger.warn({ source: key }, this.#advice(key));
  }
}
