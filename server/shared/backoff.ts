/**
 * Retry delays for the server's own loops (provider registration, provider REST retries, the LISTEN
 * connection): exponential, capped, and jittered on every attempt. The browser client ships as its
 * own package (client/package.json) and cannot import the server, so it keeps the same formula in
 * client/backoff.ts; test/server/shared/backoff.test.ts fails if the two ever differ.
 */
export interface BackoffOptions {
  /** Delay before the first reconnection attempt. Default 500 ms. */
  minDelayMs?: number;
  /** Largest delay. Default 30,000 ms. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Random source in [0, 1), replaceable for tests. Default Math.random. */
  random?: () => number;
}

/**
 * The delay before reconnection attempt `attempt` (1 for the first): "equal jitter", half of
 * the exponential step fixed and half random, drawn anew for every attempt. Fixed delays make
 * every browser of a restarted server reconnect in lockstep; a random term computed once per
 * page load (what reconnecting-websocket does) keeps them in lockstep from the second attempt on.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  const step = Math.min(max, min * factor ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
