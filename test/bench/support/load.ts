import autocannon from 'autocannon';
import { percentile } from './percentile.js';

export interface LoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Builds each request's body and the id it carries; called once per request. */
  body: () => { id: string; body: string };
  /** Receives the id of every request answered 2xx. */
  onAcknowledged?: (id: string) => void;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** How long the load ran, in seconds. */
  seconds: number;
  /** Every response's latency in ms, in arrival order, so that several runs can be pooled. */
  latencies: number[];
}

/** One autocannon run with a fresh body per request. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: [
          {
            method: 'POST',
            path: options.path,
            headers: options.headers,
            setupRequest: (request, context) => {
              const next = options.body();
              (context as { id?: string }).id = next.id;
              return { ...request, body: next.body };
            },
            onResponse: (status, _body, context) => {
              const id = (context as { id?: string }).id;
              if (status >= 200 && status < 300 && id) options.onAcknowledged?.(id);
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requests: result.requests.total,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          seconds: result.duration,
          latencies,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, milliseconds) => latencies.push(milliseconds));
  });
}

/** Several runs of one target as one: totals, rate over their summed time, pooled percentiles. */
export function poolLoads(runs: LoadResult[]) {
  const sum = (pick: (run: LoadResult) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const ok = sum((run) => run.ok);
  return {
    requests: sum((run) => run.requests),
    ok,
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    perSecond: ok / sum((run) => run.seconds),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}
