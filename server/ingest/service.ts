import type { FastifyBaseLogger } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ChangeSignal } from '../db/change-signal.js';
import type { Database } from '../db/database.js';
import { transactionBatches, withConflictRetry } from '../db/transaction.js';
import { databaseUnavailableError } from '../db/unavailable.js';
import { type ErrorCode, HooklineError } from '../errors.js';
import type { ProviderWebhook } from '../providers/webhook.js';
import { settleEchoes } from '../send/index.js';
import { GroupCommitter } from '../shared/group-commit.js';
import { applyBatch } from './apply-batch.js';
import { IgnoredSources } from './ignored-sources.js';
import type { IngestItem, ItemResult } from './items.js';
import { KnownAccounts } from './known-accounts.js';
import { parseWebhookBody } from './parse-body.js';
import { sentEchoes } from './sent-echoes.js';

/** The ingest pipeline's collaborators and limits (defaults on each). */
export interface IngestServiceOptions {
  /** The provider whose webhooks this service takes (providers/<name>/webhook.ts). */
  webhook: ProviderWebhook;
  database: Database;
  changes: ChangeSignal;
  logger: FastifyBaseLogger;
  metrics: Registry;
  /** Most webhooks committed in one transaction. Default 200. */
  maxBatchSize?: number;
  /** Most transactions committing at once. Default 2. */
  concurrency?: number;
  /** Most webhooks waiting for a transaction before new ones get 503. Default 20,000. */
  maxQueued?: number;
  /**
   * While another transaction is committing, a new one starts only with this many webhooks (or
   * after `overlapMaxWaitMs`); see GroupCommitOptions. Default 25.
   */
  overlapMinBatch?: number;
  /** The longest a webhook waits for `overlapMinBatch`. Default 2 ms. */
  overlapMaxWaitMs?: number;
  /** An identical account status within this many seconds of the last is a duplicate. Default 600. */
  statusDedupeSeconds?: number;
  /**
   * An echo of the account's own message matches an open send with the same text in the same
   * chat created within this many seconds (docs/sending.md). Default 300.
   */
  echoMatchSeconds?: number;
  /** Called after an account status that is not a duplicate committed (catch-up sync listens). */
  onAccountStatus?: (accountId: string, status: string) => void;
  /** Called after a new message committed whose webhook named no attendees of its chat. */
  onChatWithoutDetails?: (accountId: string, chatId: string) => void;
}

/** How a single webhook ended, once its batch committed. */
type Settled = ItemResult | 'unstorable';

/**
 * The ingest pipeline behind the webhook route: parse and validate each body, then group-commit
 * it with its neighbours. A caller's promise resolves only after its batch committed, so an HTTP
 * 200 always means "stored". Deadlocks and serialization failures are retried; a database outage
 * fails the batch with 503 so the provider retries; one poison webhook never fails its batch.
 */
export class IngestService {
  readonly #options: IngestServiceOptions;
  readonly #committer: GroupCommitter<IngestItem, Settled>;
  readonly #webhooks: Counter<'result'>;
  readonly #batchSize: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #knownAccounts = new KnownAccounts();
  readonly #ignored: IgnoredSources;

  constructor(options: IngestServiceOptions) {
    this.#options = options;
    this.#committer = new GroupCommitter({
      ...transactionBatches,
      flush: (items) => this.#commit(items),
      isolate: (item, error) => this.#storeUnstorable(item, error),
      onIsolate: (error, batchSize) =>
        options.logger.error({ err: error, batchSize }, 'ingest batch failed; isolating items'),
      maxBatchSize: options.maxBatchSize ?? 200,
      concurrency: options.concurrency ?? 2,
      maxQueued: options.maxQueued ?? 20_000,
      overlapMinBatch: options.overlapMinBatch ?? 25,
      overlapMaxWaitMs: options.overlapMaxWaitMs ?? 2,
    });
    this.#webhooks = new Counter({
      name: 'hookline_ingest_webhooks_total',
      help: 'Provider webhooks by result: accepted, duplicate, ignored, rejected, unavailable.',
      labelNames: ['result'],
      registers: [options.metrics],
    });
    this.#ignored = new IgnoredSources({
      logger: options.logger,
      metrics: options.metrics,
      advice: (source) => options.webhook.ignoredAdvice(source),
    });
    this.#batchSize = new Histogram({
      name: 'hookline_ingest_batch_size',
      help: 'Webhooks committed per ingest transaction.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [options.metrics],
    });
    this.#commitSeconds = new Histogram({
      name: 'hookline_ingest_commit_seconds',
      help: 'Duration of one ingest transaction.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [options.metrics],
    });
  }

  /**
   * Ingests one raw webhook body. Resolves after commit, with `ignored` for a body from a source
   * Hookline does not handle (stored as ignored); throws `HL_ERR_INVALID_JSON` or
   * `HL_ERR_INVALID_PAYLOAD` (400, the body is stored as rejected) or `HL_ERR_UNAVAILABLE` (503).
   */
  async ingest(rawBody: string): Promise<{ duplicate: boolean } | { ignored: true }> {
    const item = parseWebhookBody(rawBody, this.#options.webhook);
    let settled: Settled;
    try {
      settled = await this.#committer.submit(item);
    } catch (error) {
      this.#webhooks.inc({ result: 'unavailable' });
      // Any error but the committer's own 503s and #storeUnstorable's is an outage the batch met.
      throw error instanceof HooklineError ? error : databaseUnavailableError(error);
    }
    this.#webhooks.inc({ result: settled === 'unstorable' ? 'rejected' : settled });
    if (settled === 'ignored' && item.outcome === 'ignored') {
      this.#ignored.record(item.source);
      return { ignored: true };
    }
    if (settled === 'accepted' && item.outcome === 'accepted') {
      const { event } = item;
      if (event.kind === 'account_status') this.#options.onAccountStatus?.(event.accountId, event.status);
      else if (event.event === 'message_received' && event.attendees.length === 0) {
        this.#options.onChatWithoutDetails?.(event.accountId, event.chatId);
      }
    }
    if (settled === 'accepted' || settled === 'duplicate') return { duplicate: settled === 'duplicate' };
    if (item.outcome === 'rejected') {
      throw new HooklineError(item.error.code as ErrorCode, 'Webhook body rejected (kept for inspection)', {
        details: item.error.issues ?? { reason: item.error.reason },
      });
    }
    throw new HooklineError('HL_ERR_INVALID_PAYLOAD', 'Webhook could not be stored (kept as rejected)');
  }

  /**
   * Echoes of messages sent through Hookline settle their send before the batch is applied, so
   * the batch then finds the message stored under the provider's id and adds no second one.
   * Costs one query per echo, and only for batches holding messages the account sent.
   */
  async #settleEchoes(items: IngestItem[]): Promise<void> {
    const echoes = sentEchoes(items);
    if (echoes.length === 0) return;
    const published = await settleEchoes(
      this.#options.database.db,
      echoes,
      this.#options.echoMatchSeconds ?? 300,
    );
    if (published.realtimeSeq !== undefined || published.deliveries > 0)
      this.#options.changes.emit(published);
  }

  /** Waits until every webhook already submitted has been committed or failed. */
  drain(): Promise<void> {
    return this.#committer.drain();
  }

  async #commit(items: IngestItem[]): Promise<ItemResult[]> {
    const timer = this.#commitSeconds.startTimer();
    await this.#settleEchoes(items);
    const outcome = await applyBatch(this.#options.database.db, items, {
      provider: this.#options.webhook.provider,
      statusDedupeSeconds: this.#options.statusDedupeSeconds ?? 600,
      knownAccounts: this.#knownAccounts,
    });
    this.#knownAccounts.remember(outcome.accountsWritten);
    timer();
    this.#batchSize.observe(items.length);
    if (outcome.realtimeSeq !== undefined || outcome.deliveries > 0) {
      this.#options.changes.emit({ realtimeSeq: outcome.realtimeSeq, deliveries: outcome.deliveries });
    }
    return outcome.results;
  }

  /** A webhook that fails on its own is kept as rejected, with the database's reason. */
  async #storeUnstorable(item: IngestItem, cause: unknown): Promise<Settled> {
    this.#options.logger.error({ err: cause, batchSize: 1 }, 'ingest batch failed; isolating items');
    const reason = String((cause as { code?: unknown }).code ?? 'storage_failed');
    try {
      await withConflictRetry(() =>
        this.#commit([
          {
            outcome: 'rejected',
            rawBody: item.rawBody,
            eventName: null,
            accountId: null,
            error: { code: 'HL_ERR_INVALID_PAYLOAD', reason },
          },
        ]),
      );
    } catch (error) {
      // Not even storable as rejected: answer 503 so the provider keeps it and retries.
      throw databaseUnavailableError(error);
    }
    return 'unstorable';
  }
}
