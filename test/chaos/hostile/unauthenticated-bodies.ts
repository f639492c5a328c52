import { request } from 'node:http';

/** What one unauthenticated upload got: the status, or the error if the connection died first. */
export interface UploadAnswer {
  status: number | null;
  error: string | null;
}

/**
 * POSTs `bytes` of JSON to `url` without credentials and resolves with the answer. The body is
 * written whole, as an attacker would; the gateway may answer and close before it is all sent.
 */
export function unauthenticatedUpload(url: string, bytes: number): Promise<UploadAnswer> {
  const body = Buffer.from(`{"url":"${'a'.repeat(bytes - 10)}"}`);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: UploadAnswer) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    const outgoing = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    });
    outgoing.on('response', (response) => {
      response.resume();
      settle({ status: response.statusCode ?? null, error: null });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      settle({ status: null, error: error.code ?? error.message }),
    );
    outgoing.end(body);
  });
}

/** Polls `url` every `intervalMs` until stopped; resolves with each answer's latency in ms. */
export function probeLatency(url: string, intervalMs: number): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

/** A gauge's value from Prometheus text, or NaN. */
export function gaugeValue(metrics: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(metrics);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
}
