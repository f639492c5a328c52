import { Agent, request, errors as undiciErrors } from 'undici';
import { HooklineError } from '../../errors.js';
import { pathSegment } from '../../shared/path-segment.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  type ProviderReadReason,
  ResponseTooLargeError,
  readBoundedText,
} from './bounded-read.js';

/** One `{key, value}` header Unipile sends with every delivery of a webhook. */
export interface WebhookHeader {
  key: string;
  value: string;
}

/** Webhook sources Unipile API v1 knows; Hookline registers `messaging` and `account_status`. */
export type WebhookSource = 'messaging' | 'account_status' | 'email' | 'email_tracking' | 'users';

/** Body of `POST /webhooks`. */
export interface CreateWebhookInput {
  request_url: string;
  source: WebhookSource;
  name: string;
  format?: 'json';
  headers?: WebhookHeader[];
  events?: string[];
  account_ids?: string[];
  enabled?: boolean;
}

/** One item of `GET /webhooks`; fields beyond these are kept as the provider sent them. */
export interface Webhook {
  id: string;
  name?: string;
  source?: string;
  request_url: string;
  events?: string[];
  enabled?: boolean;
  [field: string]: unknown;
}

/** The provider's problem body, as `HooklineError.details` of a failed call (never a secret). */
export interface ProviderProblem {
  /** HTTP status the provider answered; absent when it could not be reached at all. */
  status?: number;
  type?: string;
  title?: string;
  detail?: string;
  /** What the client was doing, e.g. `POST /webhooks`. */
  operation: string;
  /** Set when the answer was refused for its shape rather than its status (docs/sync.md). */
  reason?: ProviderReadReason;
}

/** How {@link UnipileClient} reaches the provider. */
export interface UnipileClientOptions {
  /** `UNIPILE_DSN`: `host:port`, or a full URL for a local fake (see {@link unipileBaseUrl}). */
  dsn: string;
  /** `UNIPILE_API_KEY`, sent as `X-API-KEY` and nowhere else. */
  apiKey: string;
  /** Longest one call may take, connect to last byte. Default 10000 ms. */
  timeoutMs?: number;
  /** Items asked for per `GET /webhooks` page. Default 100. */
  pageSize?: number;
  /** UNIPILE_MAX_RESPONSE_BYTES: a longer answer is abandoned. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Called for each answer abandoned for its size (metrics). */
  onResponseTooLarge?: () => void;
}

/** Pages of `GET /webhooks` read at most: far more webhooks than any account holds. */
const MAX_WEBHOOK_PAGES = 100;

/**
 * The connection pool of one Unipile API client: connecting, the response headers and the body
 * each bounded by `timeoutMs`, so a stalled provider never holds a request forever.
 */
export function unipileAgent(timeoutMs: number, connections?: number): Agent {
  return new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(connections === undefined ? {} : { connections }),
  });
}

/**
 * The API base of a DSN (docs/configuration.md): `api8.unipile.com:13443` means
 * `https://api8.unipile.com:13443/api/v1`; a full URL keeps its scheme and gets `/api/v1` appended
 * unless it already has a path, so `http://127.0.0.1:4010` reaches a local fake.
 */
export function unipileBaseUrl(dsn: string): string {
  const trimmed = dsn.trim().replace(/\/+$/, '');
  if (/^https?:\/\//i.test(trimmed)) {
    const url = new URL(trimmed);
    return url.pathname === '/' || url.pathname === '' ? `${trimmed}/api/v1` : trimmed;
  }
  return `https://${trimmed}/api/v1`;
}

/**
 * A typed client for the three webhook endpoints of Unipile API v1. Every failure is a
 * `HooklineError('HL_ERR_PROVIDER')` whose details are a {@link ProviderProblem}; the API key
 * travels only in the request header, so it cannot end up in an error or a log line.
 */
export class UnipileClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #agent: Agent;
  readonly #options: UnipileClientOptions;

  constructor(options: UnipileClientOptions) {
    this.baseUrl = unipileBaseUrl(options.dsn);
    this.#options = options;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#pageSize = options.pageSize ?? 100;
    this.#agent = unipileAgent(this.#timeoutMs, 4);
  }

  /** `POST /webhooks`: returns the new webhook's id. */
  async createWebhook(input: CreateWebhookInput, signal?: AbortSignal): Promise<string> {
    const body = await this.#call<{ webhook_id?: unknown }>('POST', '/webhooks', { body: input, signal });
    if (typeof body.webhook_id !== 'string') {
      throw providerError('POST /webhooks', 'answered without a webhook_id');
    }
    return body.webhook_id;
  }

  /** `GET /webhooks`, following `cursor` until the provider answers null. */
  async listWebhooks(signal?: AbortSignal): Promise<Webhook[]> {
    const webhooks: Webhook[] = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let pages = 1; ; pages++) {
      const query = new URLSearchParams({ limit: String(this.#pageSize) });
      if (cursor) query.set('cursor', cursor);
      const page = await this.#call<{ items?: unknown; cursor?: unknown }>('GET', `/webhooks?${query}`, {
        signal,
      });
      if (!Array.isArray(page.items)) throw providerError('GET /webhooks', 'answered without items');
      webhooks.push(...(page.items as Webhook[]));
      cursor = typeof page.cursor === 'string' && page.cursor !== '' ? page.cursor : null;
      // A provider that hands back a cursor it already gave would otherwise loop forever.
      if (cursor === null) return webhooks;
      if (seen.has(cursor))
        throw providerError('GET /webhooks', 'repeated a cursor', { reason: 'cursor_cycle' });
      if (pages >= MAX_WEBHOOK_PAGES)
        throw providerError('GET /webhooks', 'listed too many pages', { reason: 'too_many_pages' });
      seen.add(cursor);
    }
  }

  /** `DELETE /webhooks/{id}`; an unknown id is a 404 `HL_ERR_PROVIDER`. */
  async deleteWebhook(id: string, signal?: AbortSignal): Promise<void> {
    await this.#call('DELETE', `/webhooks/${pathSegment(id)}`, { signal });
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.#agent.close();
  }

  async #call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { body?: unknown; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const operation = `${method} ${path.split('?')[0]}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(`${this.baseUrl}${path}`, {
        method,
        dispatcher: this.#agent,
        signal,
        headers: {
          accept: 'application/json',
          'x-api-key': this.#apiKey,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      throw providerError(operation, `unreachable: ${describeNetworkError(error, timeout)}`, {
        cause: error,
      });
    }
    let text: string;
    try {
      text = await readBoundedText(
        response.body,
        this.#options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        this.#options.onResponseTooLarge,
      );
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw providerError(operation, error.message, {
          status: response.statusCode,
          reason: error.reason,
        });
      }
      throw providerError(operation, `answer cut short: ${describeNetworkError(error, timeout)}`, {
        cause: error,
      });
    }
    const parsed = parseJson(text);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      if (parsed === undefined || typeof parsed !== 'object' || parsed === null) {
        throw providerError(operation, `answered ${response.statusCode} without a JSON object`, {
          status: response.statusCode,
        });
      }
      return parsed as T;
    }
    const problem = problemFields(parsed);
    const summary = [problem.type, problem.title].filter(Boolean).join(' ');
    throw providerError(operation, `answered ${response.statusCode}${summary ? ` ${summary}` : ''}`, {
      ...problem,
      status: response.statusCode,
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Keeps only the documented problem fields: a provider body is not ours to echo whole. */
function problemFields(body: unknown): Omit<ProviderProblem, 'operation'> {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    ...(text(record.type) ? { type: text(record.type) } : {}),
    ...(text(record.title) ? { title: text(record.title) } : {}),
    ...(text(record.detail) ? { detail: text(record.detail) } : {}),
  };
}

function describeNetworkError(error: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return 'timed out';
  if (error instanceof undiciErrors.UndiciError) return error.code;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return error instanceof Error ? error.name : 'unknown error';
}

function providerError(
  operation: string,
  what: string,
  extra: Omit<ProviderProblem, 'operation'> & { cause?: unknown } = {},
): HooklineError {
  const { cause, ...problem } = extra;
  const details: ProviderProblem = { operation, ...problem };
  return new HooklineError('HL_ERR_PROVIDER', `Unipile ${operation} ${what}`, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Whether retrying the same call later may succeed: the provider was unreachable, timed out,
 * throttled us or failed on its side. A 4xx other than 408/429 needs a human instead.
 */
export function isTransientProviderError(error: unknown): boolean {
  if (!(error instanceof HooklineError) || error.code !== 'HL_ERR_PROVIDER') return false;
  const problem = error.details as ProviderProblem | undefined;
  // A cycling cursor or an oversized answer is the provider misbehaving: asking again repeats it.
  if (problem?.reason) return false;
  const status = problem?.status;
  return status === undefined || status >= 500 || status === 408 || status === 429;
}
