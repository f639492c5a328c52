import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';
import { HooklineError } from '../errors.js';
import { isTransientProviderError, type UnipileRestClient } from '../providers/unipile/index.js';
import { fetchChatDetails, hasAttendees } from './chat-details.js';
import { fillChatDetails, knownChats } from './queries/sync.js';

/** How one background fill ended (the `result` label of its metric); `deferred`: over the per-minute budget. */
export type ChatFillResult = 'filled' | 'known' | 'not_found' | 'failed' | 'deferred';

/** What the chat filler reads with, and its bounds. */
export interface ChatFillerOptions {
  client: UnipileRestClient;
  database: Database;
  logger: FastifyBaseLogger;
  /** Chats read from the provider at once. Default 2. */
  concurrency?: number;
  /** Chats waiting beyond this many are not queued (a later webhook asks again). Default 1000. */
  maxQueued?: number;
  /** Chats remembered as handled, so their next webhooks ask nothing. Default 10000. */
  maxRemembered?: number;
  /**
   * Chats read per minute by this process, each at most 1 + 20 provider calls (its attendee pages
   * are bounded too); beyond it a chat is not queued and a later webhook asks again. Default 120.
   */
  maxPerMinute?: number;
  /** Called after each fill (metrics, tests). */
  onFill?: (result: ChatFillResult) => void;
}

interface ChatKey {
  accountId: string;
  chatId: string;
}

/**
 * Fills in, in the background, chats a webhook named without details (no attendees): reads
 * `GET /chats/{id}` and its attendees and stores their name, kind and attendees. Bounded: a few
 * chats at once, a bounded queue, each chat asked once (the client backs off on 429 and 5xx).
 * Never in the webhook's way: {@link request} returns at once.
 */
export class ChatFiller {
  readonly #options: ChatFillerOptions;
  readonly #queue: ChatKey[] = [];
  /** Queued, in flight, or handled: the chats no webhook needs to ask for again. */
  readonly #handled = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  /** The current minute's start and the chats queued in it (the per-process budget). */
  #minute = { start: 0, queued: 0 };

  constructor(options: ChatFillerOptions) {
    this.#options = options;
  }

  /** Queues a fill of one chat unless it is queued, in flight or already handled. */
  request(accountId: string, chatId: string): void {
    const key = JSON.stringify([accountId, chatId]);
    if (this.#abort.signal.aborted || this.#handled.has(key)) return;
    if (this.#queue.length >= (this.#options.maxQueued ?? 1_000)) return;
    const now = Date.now();
    if (now - this.#minute.start >= 60_000) this.#minute = { start: now, queued: 0 };
    if (this.#minute.queued >= (this.#options.maxPerMinute ?? 120)) {
      this.#options.onFill?.('deferred');
      return;
    }
    this.#minute.queued++;
    if (this.#handled.size >= (this.#options.maxRemembered ?? 10_000)) this.#forgetHandled();
    this.#handled.add(key);
    this.#queue.push({ accountId, chatId });
    this.#pump();
  }

  /** Waits until nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Drops what is queued and waits for the fills in flight to stop. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#queue.length = 0;
    await this.idle();
  }

  /** Starts over remembering, keeping the chats still queued. */
  #forgetHandled(): void {
    this.#handled.clear();
    for (const chat of this.#queue) this.#handled.add(JSON.stringify([chat.accountId, chat.chatId]));
  }

  #pump(): void {
    while (this.#inFlight.size < (this.#options.concurrency ?? 2) && this.#queue.length > 0) {
      const chat = this.#queue.shift()!;
      const fill = this.#fill(chat).finally(() => {
        this.#inFlight.delete(fill);
        this.#pump();
      });
      this.#inFlight.add(fill);
    }
  }

  async #fill(chat: ChatKey): Promise<void> {
    let result: ChatFillResult;
    try {
      result = await this.#read(chat);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      // A later webhook of the chat asks again, unless the provider refused outright (a 4xx).
      const refused = error instanceof HooklineError && error.code === 'HL_ERR_PROVIDER';
      if (!refused || isTransientProviderError(error)) {
        this.#handled.delete(JSON.stringify([chat.accountId, chat.chatId]));
      }
      // A provider failure is said by its problem (status, type, reason): one line, no stack trace.
      const cause = refused ? { problem: (error as HooklineError).details } : { err: error };
      this.#options.logger.warn({ ...cause, ...chat }, 'could not fill in chat details');
      result = 'failed';
    }
    this.#options.onFill?.(result);
  }

  async #read(chat: ChatKey): Promise<ChatFillResult> {
    const db = this.#options.database.db;
    const [stored] = await knownChats(db, chat.accountId, [chat.chatId]);
    if (stored && hasAttendees(stored.attendees)) return 'known';
    const details = await fetchChatDetails(this.#options.client, chat.chatId, this.#abort.signal);
    if (!details) return 'not_found';
    return (await fillChatDetails(db, chat, details)) ? 'filled' : 'not_found';
  }
}
