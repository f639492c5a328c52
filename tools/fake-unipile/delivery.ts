import { Agent, type Dispatcher, request } from 'undici';

/** How Unipile delivers a webhook: one POST, then up to five retries unless it gets exactly 200. */
export interface DeliveryOptions {
  /** How long one attempt may take before it counts as failed. Default 30000 ms (Unipile's). */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 5 (Unipile's). */
  retries?: number;
  /** Delay before the first retry; it doubles for each next one. Default 1000 ms. */
  retryDelayMs?: number;
  /** undici dispatcher to send through. Default: a shared agent. */
  dispatcher?: Dispatcher;
}

/** One attempt's outcome: the HTTP status, or why there was none. */
export type AttemptOutcome = number | 'timeout' | 'error';

/** How delivering one webhook to one URL went, over all its attempts. */
export interface DeliveryResult {
  url: string;
  /** Whether some attempt got exactly 200. */
  acknowledged: boolean;
  /** Every attempt's outcome, in order. */
  attempts: AttemptOutcome[];
}

const sharedAgent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function attempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  dispatcher: Dispatcher,
): Promise<AttemptOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(url, { method: 'POST', headers, body, signal, dispatcher });
    await response.body.dump();
    return response.statusCode;
  } catch {
    return signal.aborted ? 'timeout' : 'error';
  }
}

/** POSTs `body` to `url` the way Unipile does, retrying on anything but 200. */
export async function deliverWithRetries(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const retries = options.retries ?? 5;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const dispatcher = options.dispatcher ?? sharedAgent;
  const attempts: AttemptOutcome[] = [];
  for (let index = 0; index <= retries; index++) {
    if (index > 0) await wait(retryDelayMs * 2 ** (index - 1));
    const outcome = await attempt(url, headers, body, timeoutMs, dispatcher);
    attempts.push(outcome);
    if (outcome === 200) return { url, acknowledged: true, attempts };
  }
  return { url, acknowledged: false, attempts };
}
