import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor as waitForCondition } from './wait.js';

/** One request a sink received. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the sink answers one request: a status (and headers, body), or `hang` to never answer. */
export type SinkAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface WebhookSink {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Requests being answered right now, by `webhook-id`, and the most seen at once for any id. */
  readonly maxConcurrentPerWebhookId: number;
  /** Sets the answers for the next requests, in order; after them, `fallback` (default 200). */
  answer(...answers: SinkAnswer[]): void;
  fallback(answer: SinkAnswer): void;
  close(): Promise<void>;
}

/**
 * A real HTTP subscriber on 127.0.0.1, port 0, that records every request and answers as
 * scripted. `delayMs` holds every answer that long (to keep requests in flight).
 */
export async function startWebhookSink(options: { delayMs?: number } = {}): Promise<WebhookSink> {
  const received: ReceivedWebhook[] = [];
  const queue: SinkAnswer[] = [];
  const open = new Set<ServerResponse>();
  const inFlight = new Map<string, number>();
  let fallback: SinkAnswer = { status: 200, body: 'ok' };
  let maxConcurrent = 0;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const id = String(request.headers['webhook-id']);
      const now = (inFlight.get(id) ?? 0) + 1;
      inFlight.set(id, now);
      maxConcurrent = Math.max(maxConcurrent, now);
      const answer = queue.shift() ?? fallback;
      open.add(response);
      response.on('close', () => {
        open.delete(response);
        inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
      });
      if (answer === 'hang') return;
      setTimeout(() => {
        response.writeHead(answer.status, answer.headers ?? {});
        response.end(answer.body ?? '');
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get maxConcurrentPerWebhookId() {
      return maxConcurrent;
    },
    answer: (...answers) => {
      queue.push(...answers);
    },
    fallback: (answer) => {
      fallback = answer;
    },
    close: async () => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The shared {@link waitForCondition}, in the (check, timeout, what) order the outbound tests use. */
export function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  return waitForCondition(check, what, { timeoutMs });
}
