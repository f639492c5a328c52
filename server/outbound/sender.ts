import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { storableText } from '../shared/storable.js';
import { guardedLookup, isForbiddenAddress } from './address-guard.js';

/** Most of a response body kept in the attempt log. */
export const BODY_EXCERPT_BYTES = 4096;

/** How one webhook request ended, for the attempt log and the retry decision. */
export interface SendResult {
  /** HTTP status, or null when no response arrived (refused, timeout, network error). */
  statusCode: number | null;
  /** What went wrong, for the attempt log; null on a 2xx. */
  error: string | null;
  /** The first {@link BODY_EXCERPT_BYTES} of the response body, as text. */
  bodyExcerpt: string | null;
  /** The `Retry-After` header, when the response had one. */
  retryAfter?: string;
  /** Time from sending the request to the end of the body excerpt (or the failure). */
  durationMs: number;
}

/** How the webhook sender reaches endpoints. */
export interface WebhookSenderOptions {
  /** Whole-request budget: connect, headers and the body excerpt. */
  timeoutMs: number;
  /** Skip the address guard (ALLOW_PRIVATE_ENDPOINTS). */
  allowPrivate: boolean;
  /** Pooled connections per origin. */
  connectionsPerOrigin: number;
}

/** Thrown away by `send` when the caller aborts (shutdown): the attempt is not recorded. */
export class SendAborted extends Error {}

/**
 * POSTs webhook bodies through one pooled undici Agent. Unless private endpoints are allowed,
 * every connection resolves its host through {@link guardedLookup} and connects to the address
 * that passed the check, and IP-literal hosts are checked before connecting.
 */
export class WebhookSender {
  readonly #agent: Agent;
  readonly #options: WebhookSenderOptions;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.timeoutMs,
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
      },
    });
  }

  async send(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (!this.#options.allowPrivate && isIP(host) && isForbiddenAddress(host)) {
      return {
        statusCode: null,
        error: `refused: ${host} is a private or reserved address`,
        bodyExcerpt: null,
        durationMs: 0,
      };
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#options.timeoutMs);
    const combined = AbortSignal.any([signal, timeout.signal]);
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.#agent,
        signal: combined,
      });
      const excerpt = await readExcerpt(response.body);
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      const retryAfter = response.headers['retry-after'];
      return {
        statusCode: response.statusCode,
        error: ok ? null : `HTTP ${response.statusCode}`,
        bodyExcerpt: excerpt,
        ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
        durationMs: elapsed(),
      };
    } catch (error) {
      if (signal.aborted) throw new SendAborted('the worker is stopping');
      const message = timeout.signal.aborted
        ? `timeout after ${this.#options.timeoutMs} ms`
        : describeNetworkError(error);
      return { statusCode: null, error: message, bodyExcerpt: null, durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.#agent.destroy();
  }
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream: a huge body costs the connection, not memory.
    if (size >= BODY_EXCERPT_BYTES) break;
  }
  // A subscriber may answer anything; U+0000 would make the attempt unrecordable, and the
  // delivery would be re-sent after every lease without ever being settled.
  return storableText(Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8'));
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (error as NodeJS.ErrnoException).code;
  const detail = cause?.message ?? error.message;
  return code ? `${code}: ${detail}` : detail;
}
