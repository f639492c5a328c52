import type { Readable } from 'node:stream';
import { type Agent, request, errors as undiciErrors } from 'undici';
import { type MultipartPart, multipartBody } from '../../shared/multipart.js';
import { pathSegment } from '../../shared/path-segment.js';
import { DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLargeError, readBoundedText } from './bounded-read.js';
import { unipileAgent, unipileBaseUrl } from './client.js';

/** What a send asks of Unipile `POST /chats/{chat_id}/messages`. */
export interface SendMessageInput {
  chatId: string;
  accountId: string;
  text: string;
  quoteId?: string | null;
  /** Files to send, each as an `attachments` part. Default none. */
  attachments?: readonly { filename: string; mimetype: string; content: Uint8Array }[];
}

/**
 * How a send ended, as far as the gateway can tell (docs/sending.md):
 * - `sent`: 201 with the provider's message id;
 * - `refused`: the provider said no (422, 404, …): not sent, not worth retrying;
 * - `throttled`: 429, not sent, retry later (`retryAfterMs` when the provider said);
 * - `not-sent`: the connection failed before the request was written: safe to retry;
 * - `maybe-sent`: 5xx, a timeout or a connection lost after the request was written.
 */
export type SendOutcome =
  | { kind: 'sent'; messageId: string }
  | { kind: 'refused'; status: number; reason: string }
  | { kind: 'throttled'; retryAfterMs?: number }
  | { kind: 'not-sent'; reason: string }
  | { kind: 'maybe-sent'; status?: number; reason: string };

/** One message of `GET /chats/{chat_id}/messages`, as far as a lookup reads it. */
export interface ChatMessageSeen {
  id: string;
  text: string | null;
  isSender: boolean;
  timestamp: string | null;
}

/** How {@link UnipileMessaging} reaches the provider. */
export interface UnipileMessagingOptions {
  /** `UNIPILE_DSN`. */
  dsn: string;
  /** `UNIPILE_API_KEY`, sent as `X-API-KEY` only. */
  apiKey: string;
  /** Longest one call may take. */
  timeoutMs: number;
  /** Connections to the provider. Default 16. */
  connections?: number;
  /** UNIPILE_MAX_RESPONSE_BYTES: a longer answer is abandoned. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Called for each answer abandoned for its size (metrics). */
  onResponseTooLarge?: () => void;
}

/** Errors raised while connecting: the request was certainly not written. */
const BEFORE_WRITE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Sending through Unipile API v1: multipart `POST /chats/{chat_id}/messages` and the chat's
 * recent messages for settling an ambiguous send. The multipart body is encoded in one buffer
 * (server/shared/multipart.ts), and its Content-Type header carries the boundary.
 */
export class UnipileMessaging {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #agent: Agent;
  readonly #readText: (body: Readable) => Promise<string>;

  constructor(options: UnipileMessagingOptions) {
    const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#readText = (body) => readBoundedText(body, maxBytes, options.onResponseTooLarge);
    this.baseUrl = unipileBaseUrl(options.dsn);
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs;
    this.#agent = unipileAgent(options.timeoutMs, options.connections ?? 16);
  }

  /** Sends one message; never throws for a provider or network failure (see {@link SendOutcome}). */
  async send(input: SendMessageInput, signal?: AbortSignal): Promise<SendOutcome> {
    const parts: MultipartPart[] = [
      { name: 'text', value: input.text },
      { name: 'account_id', value: input.accountId },
    ];
    if (input.quoteId) parts.push({ name: 'quote_id', value: input.quoteId });
    for (const file of input.attachments ?? []) {
      parts.push({
        name: 'attachments',
        filename: file.filename,
        contentType: file.mimetype,
        content: file.content,
      });
    }
    const form = multipartBody(parts);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let status: number;
    let body: unknown;
    let retryAfter: string | undefined;
    try {
      const response = await request(`${this.baseUrl}/chats/${pathSegment(input.chatId)}/messages`, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: { accept: 'application/json', 'content-type': form.contentType, 'x-api-key': this.#apiKey },
        body: form.body,
      });
      status = response.statusCode;
      const header = response.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      body = parseJson(await this.#readText(response.body));
    } catch (error) {
      // Written and answered, but too long to read: whether it was sent is for the lookup to say.
      if (error instanceof ResponseTooLargeError) return { kind: 'maybe-sent', reason: error.message };
      const code = errorCode(error);
      if (code && BEFORE_WRITE.has(code)) return { kind: 'not-sent', reason: code };
      return { kind: 'maybe-sent', reason: timeout.aborted ? 'timed out' : (code ?? 'connection lost') };
    }
    if (status >= 200 && status < 300) {
      const messageId = sentMessageId(body);
      return messageId
        ? { kind: 'sent', messageId }
        : { kind: 'maybe-sent', status, reason: `answered ${status} without a message_id` };
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return retryAfterMs === undefined ? { kind: 'throttled' } : { kind: 'throttled', retryAfterMs };
    }
    if (status >= 500 || status === 408) return { kind: 'maybe-sent', status, reason: `answered ${status}` };
    return { kind: 'refused', status, reason: problemReason(body, status) };
  }

  /** The chat's most recent messages, newest first (`GET /chats/{chat_id}/messages`). */
  async recentMessages(chatId: string, accountId: string, limit = 50): Promise<ChatMessageSeen[]> {
    const query = new URLSearchParams({ limit: String(limit), account_id: accountId });
    const response = await request(`${this.baseUrl}/chats/${pathSegment(chatId)}/messages?${query}`, {
      method: 'GET',
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(this.#timeoutMs),
      headers: { accept: 'application/json', 'x-api-key': this.#apiKey },
    });
    const body = parseJson(await this.#readText(response.body));
    if (response.statusCode !== 200)
      throw new Error(`Unipile GET chat messages answered ${response.statusCode}`);
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items)) throw new Error('Unipile GET chat messages answered without items');
    return items.flatMap((item): ChatMessageSeen[] => {
      if (typeof item !== 'object' || item === null) return [];
      const record = item as Record<string, unknown>;
      if (typeof record.id !== 'string') return [];
      return [
        {
          id: record.id,
          text: typeof record.text === 'string' ? record.text : null,
          isSender: record.is_sender === true || record.is_sender === 1 || record.is_sender === '1',
          timestamp: typeof record.timestamp === 'string' ? record.timestamp : null,
        },
      ];
    });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** `{object:"MessageSent", message_id}`, also seen as a one-element list of it. */
export function sentMessageId(body: unknown): string | undefined {
  const record = Array.isArray(body) ? body[0] : body;
  if (typeof record !== 'object' || record === null) return undefined;
  const id = (record as Record<string, unknown>).message_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  if (error instanceof undiciErrors.UndiciError) return error.code;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const causeCode = ((error as { cause?: NodeJS.ErrnoException } | undefined)?.cause as NodeJS.ErrnoException)
    ?.code;
  return code ?? causeCode;
}

/** The provider's own words for a refusal (`type`, `title`, `detail`), never its whole body. */
export function problemReason(body: unknown, status: number): string {
  if (typeof body !== 'object' || body === null) return `answered ${status}`;
  const record = body as Record<string, unknown>;
  const parts = [record.type, record.title, record.detail].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return parts.length > 0 ? parts.join(': ').slice(0, 500) : `answered ${status}`;
}

/** A `Retry-After` header (seconds or an HTTP date) in ms, at most an hour; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
