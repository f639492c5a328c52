import { Agent } from 'undici';
import { seededRandom } from './cast.js';
import { type DeliveryOptions, type DeliveryResult, deliverWithRetries } from './delivery.js';
import { TrafficPacer } from './pacer.js';
import { type TrafficItem, type TrafficKind, TrafficScenario } from './scenario.js';

/** Where synthetic webhook traffic goes, how fast and how much. */
export interface TrafficOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:3000`. */
  target: string;
  /** Ingest path. Default `/api/webhooks/unipile/messages`. */
  path?: string;
  /** The gateway's INBOUND_SECRET, sent as `Unipile-Auth`. */
  secret: string;
  /** Webhooks per second, on average. */
  rate: number;
  /** How long to send; exactly `round(rate × duration)` webhooks are sent. */
  durationSeconds: number;
  /** Per-webhook retries and timeout. Default: Unipile's (five retries, 30 s). */
  delivery?: Omit<DeliveryOptions, 'dispatcher'>;
  /** Most webhooks in flight at once (each with its retries). Default 256. */
  concurrency?: number;
  /**
   * Chance per 10 ms tick, while on schedule, of a burst that pulls the next rate/10 (at least 2)
   * webhooks forward; the schedule then waits them out (tools/fake-unipile/pacer.ts). Default 0.01.
   */
  burstChance?: number;
  /** Source of randomness. Default: seeded with `seed` when given, else Math.random. */
  random?: () => number;
  /** Makes the stream (texts, ids, timing of bursts) the same on every run with this seed. */
  seed?: number;
  /** Called once per webhook after its last attempt. */
  onResult?: (item: TrafficItem, result: DeliveryResult) => void;
}

/** What a traffic run sent and how the gateway answered. */
export interface TrafficSummary {
  /** Webhooks sent (each counted once, however many attempts it took). */
  sent: number;
  /** Webhooks answered 200 by some attempt. */
  acknowledged: number;
  /** Retry attempts (attempts beyond each webhook's first). */
  retried: number;
  /** Webhooks still not answered 200 after every retry. */
  failed: number;
  /** Attempts per outcome: an HTTP status, `timeout` or `error`. */
  byStatus: Record<string, number>;
  /** Webhooks per traffic kind. */
  byKind: Partial<Record<TrafficKind, number>>;
  elapsedMs: number;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends realistic Unipile traffic to a gateway at a steady rate with bursts; resolves with a summary. */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  const random = options.random ?? (options.seed === undefined ? Math.random : seededRandom(options.seed));
  const scenario = new TrafficScenario(random);
  const concurrency = options.concurrency ?? 256;
  const total = Math.max(0, Math.round(options.rate * options.durationSeconds));
  // Its own stream: a seeded run replays the same webhooks however the timer ticks.
  const pacerRandom =
    options.random ?? (options.seed === undefined ? Math.random : seededRandom(options.seed + 1));
  const pacer = new TrafficPacer({
    rate: options.rate,
    total,
    burstChance: options.burstChance ?? 0.01,
    random: pacerRandom,
  });
  const url = `${options.target.replace(/\/+$/, '')}${options.path ?? '/api/webhooks/unipile/messages'}`;
  const headers = { 'content-type': 'application/json', 'unipile-auth': options.secret };
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const summary: TrafficSummary = {
    sent: 0,
    acknowledged: 0,
    retried: 0,
    failed: 0,
    byStatus: {},
    byKind: {},
    elapsedMs: 0,
  };
  const inFlight = new Set<Promise<void>>();

  const send = (item: TrafficItem) => {
    summary.sent++;
    summary.byKind[item.kind] = (summary.byKind[item.kind] ?? 0) + 1;
    const delivery = deliverWithRetries(url, headers, JSON.stringify(item.payload), {
      ...options.delivery,
      dispatcher,
    }).then((result) => {
      for (const outcome of result.attempts) {
        summary.byStatus[String(outcome)] = (summary.byStatus[String(outcome)] ?? 0) + 1;
      }
      summary.retried += result.attempts.length - 1;
      if (result.acknowledged) summary.acknowledged++;
      else summary.failed++;
      options.onResult?.(item, result);
    });
    const tracked = delivery.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const started = Date.now();
  let dispatched = 0;
  try {
    while (dispatched < total) {
      const scheduled = pacer.due((Date.now() - started) / 1000);
      while (dispatched < scheduled) {
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
        send(scenario.next());
        dispatched++;
      }
      if (dispatched < total) await wait(10);
    }
    // The last webhook is due a step before the end: the run still lasts its duration, so the
    // rate it reports is the rate asked for.
    await wait(Math.max(0, options.durationSeconds * 1000 - (Date.now() - started)));
    await Promise.all(inFlight);
  } finally {
    await dispatcher.close();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/** The summary as a few human lines. */
export function formatSummary(summary: TrafficSummary): string {
  const perSecond = summary.elapsedMs > 0 ? (summary.sent / summary.elapsedMs) * 1000 : 0;
  // Low rates keep a decimal: 0.5/s is not 1/s.
  const rate = perSecond < 10 ? perSecond.toFixed(1) : perSecond.toFixed(0);
  const entries = (record: Record<string, number | undefined>) =>
    Object.entries(record)
      .map(([key, count]) => `${key}=${count}`)
      .join(' ');
  return [
    `sent ${summary.sent} webhooks in ${(summary.elapsedMs / 1000).toFixed(1)} s (${rate}/s)`,
    `acknowledged ${summary.acknowledged}, retried ${summary.retried} attempts, failed ${summary.failed}`,
    `attempts by status: ${entries(summary.byStatus)}`,
    `webhooks by kind: ${entries(summary.byKind)}`,
  ].join('\n');
}
