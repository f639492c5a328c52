/**
 * `bench:fanout --breakdown`: where a run's latency came from. A p99 alone cannot tell a steady
 * queue from a few stalls, nor the gateway's commit from its fan-out; these can.
 */

import { percentile } from './percentile.js';

/** One latency receipt: when it arrived (ms, the benchmark's clock) and how long it took. */
export interface Receipt {
  at: number;
  latencyMs: number;
}

/**
 * Latency per `windowMs` of arrival time: a stall shows as a few windows whose p99 jumps while
 * their count drops, then rises as the backlog drains.
 */
export function latencyTimeline(receipts: readonly Receipt[], windowMs = 250): string[] {
  if (receipts.length === 0) return [];
  const start = Math.min(...receipts.map((receipt) => receipt.at));
  const windows = new Map<number, number[]>();
  for (const receipt of receipts) {
    const index = Math.floor((receipt.at - start) / windowMs);
    let latencies = windows.get(index);
    if (!latencies) {
      latencies = [];
      windows.set(index, latencies);
    }
    latencies.push(receipt.latencyMs);
  }
  return [...windows]
    .sort(([a], [b]) => a - b)
    .map(([index, latencies]) => {
      latencies.sort((a, b) => a - b);
      const at = ((index * windowMs) / 1000).toFixed(2).padStart(5);
      return `  ${at} s  n=${String(latencies.length).padStart(5)}  p50=${percentile(latencies, 0.5).toFixed(1).padStart(6)} ms  p99=${percentile(latencies, 0.99).toFixed(1).padStart(6)} ms`;
    });
}

/** A Prometheus histogram's buckets (upper bound in seconds, cumulative count), sum and count. */
interface Histogram {
  buckets: [number, number][];
  sum: number;
  count: number;
}

function histogram(metrics: string, name: string): Histogram | undefined {
  const buckets: [number, number][] = [];
  let sum = Number.NaN;
  let count = 0;
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`);
  for (const line of metrics.split('\n')) {
    const [key, value] = line.split(' ');
    if (key === undefined || value === undefined) continue;
    const bound = bucket.exec(key)?.[1];
    if (bound !== undefined)
      buckets.push([bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound), Number(value)]);
    else if (key === `${name}_sum`) sum = Number(value);
    else if (key === `${name}_count`) count = Number(value);
  }
  return count > 0 ? { buckets, sum, count } : undefined;
}

/** The smallest bucket bound holding `p` of the observations: "p99 at most X". */
function boundOf(histogram: Histogram, p: number): number {
  return histogram.buckets.find(([, cumulative]) => cumulative >= p * histogram.count)?.[0] ?? Number.NaN;
}

/**
 * The gateway's own view, from its /metrics at the end of the run (warm-up included): webhooks
 * per ingest transaction, how long each transaction took, and the time from a realtime event's
 * insert (inside that transaction) to its write on a socket.
 */
export function gatewayBreakdown(metrics: string): string[] {
  const lines: string[] = [];
  const batch = histogram(metrics, 'hookline_ingest_batch_size');
  if (batch)
    lines.push(
      `  ingest transactions: ${batch.count}, ${(batch.sum / batch.count).toFixed(1)} webhooks each on average`,
    );
  const describe = (label: string, name: string) => {
    const seconds = histogram(metrics, name);
    if (!seconds) return;
    const ms = (value: number) => `${(value * 1000).toFixed(1)} ms`;
    lines.push(
      `  ${label}: mean ${ms(seconds.sum / seconds.count)}, p50 <= ${ms(boundOf(seconds, 0.5))}, p99 <= ${ms(boundOf(seconds, 0.99))}`,
    );
  };
  describe('ingest transaction', 'hookline_ingest_commit_seconds');
  describe('event insert to socket write', 'hookline_realtime_fanout_latency_seconds');
  return lines;
}
