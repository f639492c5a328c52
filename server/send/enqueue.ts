import type { ChangeSignal } from '../db/change-signal.js';
import type { Db } from '../db/database.js';
import { insertSendAttachments, type SendAttachmentFile } from '../db/send-attachments.js';
import { existingChats, insertSends, setSendKeyResponses, takeSendKeys } from '../db/send-batches.js';
import type { NewSend } from '../db/sends.js';
import { transaction, withConflictRetry } from '../db/transaction.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { Envelopes, publishEnvelopes, sentMessageData } from '../events/index.js';
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
  | { kind: 'queued'; response: ReturnType<typeof sentMessageData> }
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

  async #store(requests: EnqueueRequest[]): Promise<EnqueueResult[]> {
    const { published, stored, chats } = await transaction(this.#options.db, async (tx) => {
      // Keys are taken first, so that a request whose key is taken stores nothing; that needs to
      // know the chats first, so that a request for no chat takes no key. Without keys, the
      // insert itself keeps only sends whose chat exists.
      const keyedRequests = requests.filter((request) => request.key);
      const chats = keyedRequests.length > 0 ? await existingChats(tx, keyedRequests) : undefined;
      // A key asked for twice in one batch: the first request takes it, the other replays it.
      const keyed = new Map<string, EnqueueRequest>();
      for (const request of keyedRequests) {
        const id = key(request.accountId, request.key as string);
        if (chats?.has(key(request.accountId, request.chatId)) && !keyed.has(id)) keyed.set(id, request);
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
      const messages = await insertSends(
        tx,
        requests.filter((request) => !request.key || keysTaken.has(request.localId)),
      );
      const responses = new Map(messages.map((message) => [message.localId, sentMessageData(message)]));
      for (const request of requests) {
        if (request.files?.length && responses.has(request.localId))
          await insertSendAttachments(tx, request.localId, request.files);
      }
      if (messages.length === 0) return { published: undefined, stored: responses, chats };
      await setSendKeyResponses(
        tx,
        [...keysTaken]
          .filter((localId) => responses.has(localId))
          .map((localId) => ({ localId, response: responses.get(localId) })),
      );
      // Sockets see the pending messages at once; subscribers hear of each as `message.sent`.
      const envelopes = new Envelopes();
      for (const message of messages) {
        const data = responses.get(message.localId);
        if (data) envelopes.addRealtime('message:new', message.accountId, data);
      }
      return { published: await publishEnvelopes(tx, envelopes), stored: responses, chats };
    });
    if (published) {
      this.#options.changes.emit(published);
      this.#options.wake();
    }
    return requests.map((request): EnqueueResult => {
      const response = stored.get(request.localId);
      if (response) return { kind: 'queued', response };
      // Not stored: a keyed request whose chat exists lost its key; any other had no chat.
      return request.key && chats?.has(key(request.accountId, request.chatId))
        ? { kind: 'key-taken' }
        : { kind: 'no-chat' };
    });
  }
}
