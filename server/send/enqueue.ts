import type { ChangeSignal } from '../db/change-signal.js';
import type { Db } from '../db/database.js';
import { publishToOutboxes } from '../db/outboxes.js';
import { existingChats, insertSends, setSendKeyResponses, takeSendKeys } from '../db/send-batches.js';
import { type NewSend, notifySendsQueued } from '../db/sends.js';
import { transaction, withConflictRetry } from '../db/transaction.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { GroupCommitter } from '../ingest/group-commit.js';
import { sentMessageData } from './settle.js';

/** A send the route accepted, with its `Idempotency-Key` if it came with one. */
export interface EnqueueRequest extends NewSend {
  key?: string;
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
      const chats = await existingChats(tx, requests);
      const withChat = requests.filter((request) => chats.has(key(request.accountId, request.chatId)));
      // A key asked for twice in one batch: the first request takes it, the other replays it.
      const keyed = new Map<string, EnqueueRequest>();
      for (const request of withChat) {
        if (request.key && !keyed.has(key(request.accountId, request.key)))
          keyed.set(key(request.accountId, request.key), request);
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
      const stored = withChat.filter((request) => !request.key || keysTaken.has(request.localId));
      if (stored.length === 0) return { published: undefined, stored: new Map(), chats };
      const messages = await insertSends(tx, stored);
      const responses = new Map(messages.map((message) => [message.localId, sentMessageData(message)]));
      await setSendKeyResponses(
        tx,
        stored
          .filter((request) => request.key)
          .map((request) => ({ localId: request.localId, response: responses.get(request.localId) })),
      );
      await notifySendsQueued(tx);
      const realtime = messages.map((message) => ({
        accountId: message.accountId,
        type: 'message:new',
        data: responses.get(message.localId),
      }));
      return { published: await publishToOutboxes(tx, { realtime }), stored: responses, chats };
    });
    if (published) {
      this.#options.changes.emit(published);
      this.#options.wake();
    }
    return requests.map((request): EnqueueResult => {
      const response = stored.get(request.localId);
      if (response) return { kind: 'queued', response };
      return chats.has(key(request.accountId, request.chatId)) ? { kind: 'key-taken' } : { kind: 'no-chat' };
    });
  }
}
