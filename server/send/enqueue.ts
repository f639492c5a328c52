import type { ChangeSignal } from '../db/change-signal.js';
import type { Db, Tx } from '../db/database.js';
import { insertSendAttachments, type SendAttachmentFile } from './send-attachments.js';
import {
  existingChats,
  type StoredSend,
  setSendKeyResponses,
  storeSends,
  takeSendKeys,
} from './send-batches.js';
import type { NewSend } from './sends.js';
import { transaction, withConflictRetry } from '../db/transaction.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import {
  Envelopes,
  type NewMessageData,
  type Published,
  publishEnvelopes,
  type RealtimeType,
} from '../events/index.js';
import { GroupCommitter } from '../shared/group-commit.js';

/** A send the route accepted, with its `Idempotency-Key` if it came with one. */
export interface EnqueueRequest extends NewSend {
  key?: string;
  /** Uploaded files, kept in `send_attachments` until the send settles. Default none. */
  files?: readonly SendAttachmentFile[];
}

/**
 * What became of one request: queued (its answer), no such chat, its key already taken, or failed
 * on its own (its batch was stored without it).
 */
export type EnqueueResult =
  | { kind: 'queued'; response: NewMessageData }
  | { kind: 'no-chat' }
  | { kind: 'key-taken' }
  | { kind: 'failed'; error: unknown };

/** What the send enqueuer writes with, and whom it wakes. */
export interface SendEnqueuerOptions {
  db: Db;
  changes: ChangeSignal;
  /** SEND_IDEMPOTENCY_HOURS. */
  idempotencyHours: number;
  /** Wakes this instance's worker once a batch is committed. */
  wake: () => void;
}

const key = (accountId: string, id: string) => `${accountId}\n${id}`;

/**
 * Stores sends by group commit: requests that arrive together share one transaction (their
 * queue rows, messages, chats, keys, `message:new` events and the NOTIFY that wakes every
 * instance's worker), each answered once its batch has committed (docs/sending.md).
 */
export class SendEnqueuer {
  readonly #options: SendEnqueuerOptions;
  readonly #batches: GroupCommitter<EnqueueRequest, EnqueueResult>;

  constructor(options: SendEnqueuerOptions) {
    this.#options = options;
    this.#batches = new GroupCommitter({
      flush: (requests) => this.#storeIsolating(requests),
      maxBatchSize: 100,
    });
  }

  /** Stores one send; resolves once its batch has committed. */
  submit(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.#batches.submit(request);
  }

  /** Resolves once every submitted send has been committed or failed. */
  drain(): Promise<void> {
    return this.#batches.drain();
  }

  /**
   * Stores a batch; when it fails for another reason than an outage, each request is stored on
   * its own, so that one bad request fails alone and not its neighbours.
   */
  async #storeIsolating(requests: EnqueueRequest[]): Promise<EnqueueResult[]> {
    try {
      return await withConflictRetry(() => this.#store(requests));
    } catch (error) {
      if (requests.length === 1 || isDatabaseUnavailable(error)) throw error;
      const results: EnqueueResult[] = [];
      for (const request of requests) {
        results.push(
          ...(await this.#storeIsolating([request]).catch((failed: unknown) => [
            { kind: 'failed' as const, error: failed },
          ])),
        );
      }
      return results;
    }
  }

  /**
   * A batch without keys or files is one call, its own transaction; any other batch takes its
   * keys first and stores its files, in one transaction that publishes last.
   */
  async #store(requests: EnqueueRequest[]): Promise<EnqueueResult[]> {
    const plain = requests.every((request) => !request.key && !request.files?.length);
    const { stored, published, chats } = plain
      ? {
          ...(await storeSends(this.#options.db, requests, { publish: true, realtimeType: NEW_MESSAGE })),
          chats: undefined,
        }
      : await transaction(this.#options.db, (tx) => this.#storeKeyed(tx, requests));
    if (stored.length > 0) {
      this.#options.changes.emit(published);
      this.#options.wake();
    }
    const responses = new Map(stored.map((send) => [send.localId, send.data as unknown as NewMessageData]));
    return requests.map((request): EnqueueResult => {
      const response = responses.get(request.localId);
      if (response) return { kind: 'queued', response };
      // Not stored: a keyed request whose chat exists lost its key; any other had no chat.
      return request.key && chats?.has(key(request.accountId, request.chatId))
        ? { kind: 'key-taken' }
        : { kind: 'no-chat' };
    });
  }

  async #storeKeyed(
    tx: Tx,
    requests: EnqueueRequest[],
  ): Promise<{ stored: StoredSend[]; published: Published; chats: Set<string> }> {
    // Keys are taken first, so that a request whose key is taken stores nothing; that needs to
    // know the chats first, so that a request for no chat takes no key.
    const keyedRequests = requests.filter((request) => request.key);
    const chats = await existingChats(tx, keyedRequests);
    // A key asked for twice in one batch: the first request takes it, the other replays it.
    const keyed = new Map<string, EnqueueRequest>();
    for (const request of keyedRequests) {
      const id = key(request.accountId, request.key as string);
      if (chats.has(key(request.accountId, request.chatId)) && !keyed.has(id)) keyed.set(id, request);
    }
    const keysTaken = await takeSendKeys(
      tx,
      [...keyed.values()].map((request) => ({
        accountId: request.accountId,
        key: request.key as string,
        localId: request.localId,
      })),
      this.#options.idempotencyHours,
    );
    const { stored } = await storeSends(
      tx,
      requests.filter((request) => !request.key || keysTaken.has(request.localId)),
      { publish: false, realtimeType: NEW_MESSAGE },
    );
    const storedIds = new Set(stored.map((send) => send.localId));
    for (const request of requests) {
      if (request.files?.length && storedIds.has(request.localId))
        await insertSendAttachments(tx, request.localId, request.files);
    }
    await setSendKeyResponses(
      tx,
      stored
        .filter((send) => keysTaken.has(send.localId))
        .map((send) => ({ localId: send.localId, response: send.data })),
    );
    // Sockets see the pending messages at once, published last.
    const envelopes = new Envelopes();
    for (const send of stored)
      envelopes.addRealtime('message:new', send.accountId, send.data as unknown as NewMessageData);
    return { stored, published: await publishEnvelopes(tx, envelopes), chats };
  }
}

/** The realtime type of a stored send's message (subscribers hear of it as `message.sent`). */
const NEW_MESSAGE = 'message:new' satisfies RealtimeType;
