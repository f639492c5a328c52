import type { Readable } from 'node:stream';
import { type Agent, request } from 'undici';
import { pathSegment } from '../../shared/path-segment.js';
import { unipileAgent, unipileBaseUrl } from './client.js';
import { parseRetryAfter, problemReason } from './send-message.js';

/**
 * How a call that changes nothing twice ended (marking a chat read is idempotent, so any failure
 * may be retried): `done`; `refused` by the provider for good (404, 400, …); `retry` later (429,
 * 5xx, a timeout, a connection failure), after `retryAfterMs` when the provider said.
 */
export type ChatActionOutcome =
  | { kind: 'done' }
  | { kind: 'refused'; status: number; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** A provider file on its way to the caller: its status, its headers as given, and its bytes. */
export interface AttachmentDownload {
  status: number;
  contentType: string | null;
  contentLength: number | null;
  body: Readable;
}

/** How {@link UnipileChatActions} reaches the provider. */
export interface UnipileChatActionsOptions {
  /** `UNIPILE_DSN`. */
  dsn: string;
  /** `UNIPILE_API_KEY`, sent as `X-API-KEY` only. */
  apiKey: string;
  /** Longest one call may take (for a download: connecting and each read of its body). */
  timeoutMs: number;
}

/**
 * What the inbox asks of Unipile API v1 besides sending: `PATCH /chats/{chat_id}`
 * (`setReadStatus`) and `GET /messages/{message_id}/attachments/{attachment_id}` (the file's
 * bytes, streamed).
 */
export class UnipileChatActions {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #agent: Agent;

  constructor(options: UnipileChatActionsOptions) {
    this.#baseUrl = unipileBaseUrl(options.dsn);
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs;
    this.#agent = unipileAgent(options.timeoutMs, 8);
  }

  /** Marks a chat read (or unread) at the provider; never throws for a provider or network failure. */
  async setReadStatus(chatId: string, read: boolean, signal?: AbortSignal): Promise<ChatActionOutcome> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await request(`${this.#baseUrl}/chats/${pathSegment(chatId)}`, {
        method: 'PATCH',
        dispatcher: this.#agent,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-api-key': this.#apiKey,
        },
        body: JSON.stringify({ action: 'setReadStatus', value: read }),
      });
      const status = response.statusCode;
      const body: unknown = await response.body.json().catch(() => undefined);
      if (status >= 200 && status < 300) return { kind: 'done' };
      if (status === 429 || status === 408 || status >= 500) {
        const header = response.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header);
        return {
          kind: 'retry',
          reason: `answered ${status}`,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      }
      return { kind: 'refused', status, reason: problemReason(body, status) };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { kind: 'retry', reason: timeout.aborted ? 'timed out' : String(code ?? 'connection failed') };
    }
  }

  /**
   * Starts a download of one attachment. Resolves once the provider's headers arrived; the body is
   * the caller's to read (or destroy). A failure to connect rejects.
   */
  async attachment(
    messageId: string,
    attachmentId: string,
    signal?: AbortSignal,
  ): Promise<AttachmentDownload> {
    const path = `/messages/${pathSegment(messageId)}/attachments/${pathSegment(attachmentId)}`;
    const response = await request(`${this.#baseUrl}${path}`, {
      method: 'GET',
      dispatcher: this.#agent,
      ...(signal ? { signal } : {}),
      headers: { accept: '*/*', 'x-api-key': this.#apiKey },
    });
    const type = response.headers['content-type'];
    const length = Number(response.headers['content-length']);
    return {
      status: response.statusCode,
      contentType: typeof type === 'string' ? type : null,
      contentLength: Number.isSafeInteger(length) && length >= 0 ? length : null,
      body: response.body,
    };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
