import type { ChangeSignal } from '../db/change-signal.js';
import type { Db, Tx } from '../db/database.js';
import { transaction, transactionBatches } from '../db/transaction.js';
import {
  Envelopes,
  ownMessageNewData,
  type Published,
  type SendAccepted,
  sendAccepted,
} from '../events/index.js';
import { publish } from '../outbound/index.js';
import { GroupCommitter } from '../shared/group-commit.js';
import { type KeyClaims, lostKey, mayStore, type SendIdempotency } from './idempotency.js';
import { insertSendAttachments, type SendAttachmentFile } from './queries/send-attachments.js';
import { storeSends } from './queries/send-batches.js';
import type { NewSend } from './queries/sends.js';

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
  | { kind: 'queued'; response: SendAccepted }
  | { kind: 'no-chat' }
  | { kind: 'key-taken' }
  | { kind: 'failed'; error: unknown };

/** What the send enqueuer writes with, and whom it wakes. */
export interface SendEnqueuerOptions {
  db: Db;
  changes: ChangeSignal;
  /** Takes the batch's `Idempotency-Key`s and records their answers. */
  idempotency: SendIdempotency;
  /** Wakes this instance's worker once a batch is committed. */
  wake: () => void;
}

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
    // A batch that fails for another reason than an outage is stored again request by request,
    // so that one bad request fails alone and not its neighbours.
    this.#batches = new GroupCommitter({
      ...transactionBatches,
      flush: (requests) => this.#store(requests),
      isolate: (_request, error) => ({ kind: 'failed', error }),
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
   * Stores a batch in one transaction: its keys first, then its sends, their files and the
   * answers replays give, and their `message:new`s, published last.
   */
  async #store(requests: EnqueueRequest[]): Promise<EnqueueResult[]> {
    const { answers, claims, published } = await transaction(this.#options.db, (tx) =>
      this.#storeBatch(tx, requests),
    );
    if (answers.size > 0) {
      this.#options.changes.emit(published);
      this.#options.wake();
    }
    return requests.map((request): EnqueueResult => {
      const answer = answers.get(request.localId);
      if (answer) return { kind: 'queued', response: answer };
      // Not stored: a keyed request whose chat exists lost its key; any other had no chat.
      return lostKey(claims, request) ? { kind: 'key-taken' } : { kind: 'no-chat' };
    });
  }

  async #storeBatch(
    tx: Tx,
    requests: EnqueueRequest[],
  ): Promise<{ answers: Map<string, SendAccepted>; claims: KeyClaims; published: Published }> {
    const { idempotency } = this.#options;
    const claims = await idempotency.takeKeys(tx, requests);
    const stored = await storeSends(
      tx,
      requests.filter((request) => mayStore(claims, request)),
    );
    const answers = new Map<string, SendAccepted>();
    for (const message of stored) if (message.localId) answers.set(message.localId, sendAccepted(message));
    for (const request of requests) {
      if (request.files?.length && answers.has(request.localId))
        await insertSendAttachments(tx, request.localId, request.files);
    }
    await idempotency.recordAnswers(
      tx,
      claims,
      [...answers].map(([localId, answer]) => ({ localId, answer })),
    );
    // Sockets see the pending messages at once, published last.
    const envelopes = new Envelopes();
    for (const message of stored)
      envelopes.addRealtime('message:new', message.accountId, ownMessageNewData(message));
    return { answers, claims, published: await publish(tx, envelopes) };
  }
}
