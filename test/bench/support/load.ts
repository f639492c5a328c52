import autocannon from 'autocannon';

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
  perSecond: number;
  p50: number;
  p99: number;
}

/** One autocannon run with a fresh body per request. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
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
  });
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    perSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
