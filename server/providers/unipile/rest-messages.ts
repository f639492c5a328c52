import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, request } from 'undici';
import { HooklineError } from '../../errors.js';
import { backoffDelay } from '../../shared/backoff.js';
import { pathSegment } from '../../shared/path-segment.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  pagingError,
  ResponseTooLargeError,
  readBoundedText,
  readPages,
} from './bounded-read.js';
import { type ProviderProblem, unipileAgent, unipileBaseUrl } from './client.js';

/** Pages of `GET /accounts` read at most (10,000 accounts). */
const MAX_ACCOUNT_PAGES = 100;
/** Pages of one chat's attendees read at most (5,000 attendees). */
export const MAX_ATTENDEE_PAGES = 20;

/** One reaction of a REST message. */
export interface RestReaction {
  value: string;
  sender_id: string;
  is_sender?: number | boolean;
}

/** A message as `GET /messages` lists it; its `id` is the webhook's `message_id`. */
export interface RestMessage {
  id: string;
  account_id: string;
  chat_id: string;
  chat_provider_id?: string | null;
  provider_id?: string | null;
  sender_id?: string | null;
  sender_attendee_id?: string | null;
  text?: string | null;
  timestamp: string;
  is_sender?: number | boolean;
  seen?: number | boolean;
  edited?: number | boolean;
  deleted?: number | boolean;
  reactions?: RestReaction[];
  attachments?: unknown;
  quoted?: unknown;
  [field: string]: unknown;
}

/** `{object: "MessageList", items, cursor}`, newest first; `cursor` null on the last page. */
export interface MessagePage {
  items: RestMessage[];
  cursor: string | null;
}

/** An account of `GET /accounts`; `sources` are its messaging connections and their status. */
export interface RestAccount {
  id: string;
  type?: string;
  name?: string;
  sources?: { id?: string; status?: string }[];
  [field: string]: unknown;
}

/** A chat of `GET /chats/{id}`; fields Hookline does not read are kept. */
export interface RestChat {
  id: string;
  account_id?: string;
  account_type?: string;
  provider_id?: string | null;
  name?: string | null;
  /** 0 one-to-one, 1 group, 2 channel/broadcast. */
  type?: number;
  [field: string]: unknown;
}

/** A chat attendee of `GET /chats/{id}/attendees`; `is_self` marks the account's own user. */
export interface RestAttendee {
  id: string;
  provider_id?: string | null;
  name?: string | null;
  profile_url?: string | null;
  is_self?: number | boolean;
  [field: string]: unknown;
}

/** One page of an account's messages in a time window, newest first. */
export interface ListMessagesQuery {
  accountId: string;
  /** Exclusive lower bound. */
  after?: Date;
  /** Exclusive upper bound. */
  before?: Date;
  /** The previous page's `cursor`; absent or null for the first page. */
  cursor?: string | null;
  /** 1-250. */
  limit: number;
}

/** How {@link UnipileRestClient} reaches the provider and retries. */
export interface UnipileRestClientOptions {
  /** `UNIPILE_DSN` (see unipileBaseUrl). */
  dsn: string;
  /** `UNIPILE_API_KEY`, sent as `X-API-KEY` only. */
  apiKey: string;
  /** Longest one call may take. Default 10000 ms. */
  timeoutMs?: number;
  /** Attempts of one call when the provider throttles (429), fails (5xx) or is unreachable. Default 6. */
  maxAttempts?: number;
  /** First backoff delay; it doubles per attempt, with jitter. Default 500 ms. */
  retryMinMs?: number;
  /** Largest backoff delay. Default 30000 ms. */
  retryMaxMs?: number;
  /** Called before each backoff sleep (metrics, logs). */
  onRetry?: (operation: string, status: number | undefined, delayMs: number) => void;
  /** UNIPILE_MAX_RESPONSE_BYTES: a longer answer is abandoned, not retried. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Called for each answer abandoned for its size (metrics). */
  onResponseTooLarge?: () => void;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, the only form the provider accepts for `after`/`before`. */
export const providerTime = (date: Date) => date.toISOString();

/**
 * The read side of Unipile API v1 that catch-up sync uses: accounts, messages, chats and their
 * attendees. Throttling (429), provider failures (5xx) and network errors are retried with
 * jittered exponential backoff; any other failure, 401/403 included, throws at once an
 * `HL_ERR_PROVIDER` whose details are a {@link ProviderProblem}.
 */
export class UnipileRestClient {
  readonly baseUrl: string;
  readonly #options: UnipileRestClientOptions;
  readonly #agent: Agent;

  constructor(options: UnipileRestClientOptions) {
    this.baseUrl = unipileBaseUrl(options.dsn);
    this.#options = options;
    this.#agent = unipileAgent(options.timeoutMs ?? 10_000);
  }

  /**
   * `GET /accounts`, every page (at most 100, a cursor seen twice ends it), each account once:
   * a provider listing an account on several pages must not start several syncs of it.
   */
  async listAccounts(signal?: AbortSignal): Promise<RestAccount[]> {
    const listed = await readPages(
      async (cursor) => {
        const query = new URLSearchParams({ limit: '100' });
        if (cursor) query.set('cursor', cursor);
        const page = await this.#get<{ items?: unknown; cursor?: unknown }>('/accounts', query, signal);
        return { items: items<RestAccount>(page, 'GET /accounts'), cursor: nextCursor(page.cursor, cursor) };
      },
      MAX_ACCOUNT_PAGES,
      (reason) => pagingError('GET /accounts', reason),
    );
    const byId = new Map<string, RestAccount>();
    for (const account of listed) {
      if (typeof account?.id === 'string' && !byId.has(account.id)) byId.set(account.id, account);
    }
    return [...byId.values()];
  }

  /** One page of `GET /messages` for an account, newest first. */
  async listMessages(query: ListMessagesQuery, signal?: AbortSignal): Promise<MessagePage> {
    const params = new URLSearchParams({ account_id: query.accountId, limit: String(query.limit) });
    if (query.after) params.set('after', providerTime(query.after));
    if (query.before) params.set('before', providerTime(query.before));
    if (query.cursor) params.set('cursor', query.cursor);
    const page = await this.#get<{ items?: unknown; cursor?: unknown }>('/messages', params, signal);
    return {
      items: items<RestMessage>(page, 'GET /messages'),
      cursor: nextCursor(page.cursor, query.cursor),
    };
  }

  /** `GET /chats/{id}`. */
  getChat(chatId: string, signal?: AbortSignal): Promise<RestChat> {
    return this.#get<RestChat>(`/chats/${pathSegment(chatId)}`, undefined, signal);
  }

  /** `GET /chats/{id}/attendees`, every page: at most {@link MAX_ATTENDEE_PAGES}, a cursor seen twice ends it. */
  listChatAttendees(chatId: string, signal?: AbortSignal): Promise<RestAttendee[]> {
    const path = `/chats/${pathSegment(chatId)}/attendees`;
    return readPages(
      async (cursor) => {
        const query = new URLSearchParams({ limit: '250' });
        if (cursor) query.set('cursor', cursor);
        const page = await this.#get<{ items?: unknown; cursor?: unknown }>(path, query, signal);
        return {
          items: items<RestAttendee>(page, 'GET /chats/{id}/attendees'),
          cursor: nextCursor(page.cursor, cursor),
        };
      },
      MAX_ATTENDEE_PAGES,
      (reason) => pagingError('GET /chats/{id}/attendees', reason),
    );
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  async #get<T>(path: string, query: URLSearchParams | undefined, signal?: AbortSignal): Promise<T> {
    const operation = `GET ${path.replace(/\/chats\/[^/]+/, '/chats/{id}')}`;
    const maxAttempts = this.#options.maxAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(operation, `${this.baseUrl}${path}${query ? `?${query}` : ''}`, signal);
      } catch (error) {
        const problem = (error as HooklineError).details as ProviderProblem | undefined;
        const status = problem?.status;
        // An answer refused for its size comes back as large: asking again would only repeat it.
        const transient = !problem?.reason && (status === undefined || status === 429 || status >= 500);
        if (!transient || attempt >= maxAttempts || signal?.aborted) throw error;
        const delay = backoffDelay(attempt, {
          minDelayMs: this.#options.retryMinMs ?? 500,
          maxDelayMs: this.#options.retryMaxMs ?? 30_000,
        });
        this.#options.onRetry?.(operation, status, delay);
        await sleep(delay, undefined, signal ? { signal } : undefined);
      }
    }
  }

  async #once<T>(operation: string, url: string, signal?: AbortSignal): Promise<T> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    let statusCode = 0;
    let text: string;
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.#agent,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: { accept: 'application/json', 'x-api-key': this.#options.apiKey },
      });
      statusCode = response.statusCode;
      text = await readBoundedText(
        response.body,
        this.#options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        this.#options.onResponseTooLarge,
      );
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw restError({ operation, status: statusCode, reason: error.reason }, error.message);
      }
      const what = timeout.aborted ? 'timed out' : ((error as NodeJS.ErrnoException).code ?? 'unreachable');
      throw restError({ operation }, `unreachable: ${what}`, error);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (statusCode >= 200 && statusCode < 300 && typeof body === 'object' && body !== null) return body as T;
    const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const field = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const problem: ProviderProblem = {
      operation,
      status: statusCode,
      ...(field(record.type) ? { type: field(record.type) } : {}),
      ...(field(record.title) ? { title: field(record.title) } : {}),
      ...(field(record.detail) ? { detail: field(record.detail) } : {}),
    };
    throw restError(problem, `answered ${statusCode}${problem.type ? ` ${problem.type}` : ''}`);
  }
}

function items<T>(page: { items?: unknown }, operation: string): T[] {
  if (!Array.isArray(page.items)) throw restError({ operation }, 'answered without items');
  return page.items as T[];
}

/** The next cursor, or null at the end; a provider repeating a cursor would loop forever. */
function nextCursor(value: unknown, previous: string | null | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value === previous) throw pagingError('GET (paged)', 'cursor_cycle');
  return value;
}

function restError(problem: ProviderProblem, what: string, cause?: unknown): HooklineError {
  return new HooklineError('HL_ERR_PROVIDER', `Unipile ${problem.operation} ${what}`, {
    details: problem,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `unauthorized` (401) or `forbidden` (403) when the provider refused our API key, else undefined. */
export function providerAuthFailure(error: unknown): 'unauthorized' | 'forbidden' | undefined {
  if (!(error instanceof HooklineError) || error.code !== 'HL_ERR_PROVIDER') return undefined;
  const status = (error.details as ProviderProblem | undefined)?.status;
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  return undefined;
}
