import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { ChangeSignal } from '../db/change-signal.js';
import type { Database } from '../db/database.js';
import { HooklineError } from '../errors.js';
import {
  pagingError,
  providerAuthFailure,
  type RestAccount,
  type UnipileRestClient,
} from '../providers/unipile/index.js';
import { type AppliedPage, applySyncPage } from './apply-page.js';
import { ChatDetailsCache } from './chat-details.js';
import { normalizePage } from './normalize-page.js';
import {
  acquireSyncLease,
  createSyncRun,
  findSyncAccount,
  findSyncRun,
  finishSyncRun,
  joinSyncGroup,
  releaseSyncLease,
  type SyncRunRecord,
} from './queries/sync.js';

/** What started a sync: shown on the run. */
export type SyncTrigger = 'startup' | 'interval' | 'status' | 'api';

/** What the sync engine reads and writes with, its lease, and the windows and pages it asks for. */
export interface SyncEngineOptions {
  database: Database;
  client: UnipileRestClient;
  changes: ChangeSignal;
  logger: FastifyBaseLogger;
  /** This instance's lease owner name. Default: a random id. */
  owner?: string;
  /** How long a lease lasts without renewal; renewed every third of it. Default 60000 ms. */
  leaseMs?: number;
  /** Messages asked per page (1-250). Default 100. */
  pageSize?: number;
  /** Pages one run may read (UNIPILE_SYNC_MAX_PAGES); past them it fails (`too_many_pages`). Default 1000. */
  maxPages?: number;
  /** How far before the watermark a run starts. Default 600000 ms (10 min). */
  overlapMs?: number;
  /** How far back an account's first run looks. Default 24 h. */
  lookbackMs?: number;
  /** Called after each committed page (metrics; tests). */
  onPage?: (run: SyncRunRecord, page: AppliedPage) => void;
}

/** How one account's sync run starts. */
export interface StartOptions {
  trigger: SyncTrigger;
  /**
   * Start of the window instead of the watermark minus the overlap. A run of the account left
   * interrupted is then not resumed but ended (failed, `superseded_by_since`), and the new window
   * starts at the earlier of `since` and that run's start.
   */
  since?: Date;
  /** The request for every account this run counts into, if any. */
  groupId?: string;
}

/** Why the provider refused our key, when it did: stops syncs until a run succeeds again. */
export interface SyncAuthFailure {
  reason: 'unauthorized' | 'forbidden';
  at: Date;
}

/** The error of an interrupted run that a start with an explicit `since` replaced. */
const SUPERSEDED = { code: 'HL_ERR_CONFLICT', details: { reason: 'superseded_by_since' } };

/** Whether a provider account is connected: any messaging source reports OK (or none is listed). */
export function isConnected(account: RestAccount): boolean {
  if (!Array.isArray(account.sources) || account.sources.length === 0) return true;
  return account.sources.some((source) => source?.status === 'OK');
}

/**
 * Catch-up sync (docs/sync.md): per account, reads the provider's messages over a window ending
 * when the run starts, newest first, page by page, and applies each page through the webhook write
 * path with the run's position in the same transaction. One instance at a time syncs an account
 * (a lease row); a run left `running` by a crash or a shutdown resumes from its position.
 */
export class SyncEngine {
  readonly owner: string;
  authFailure: SyncAuthFailure | undefined;
  readonly #options: SyncEngineOptions;
  readonly #running = new Map<string, { id: string; done: Promise<void> }>();
  /** Starts still deciding whether to run, so that idle() also waits for triggers just fired. */
  readonly #starting = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #leaseMs: number;

  constructor(options: SyncEngineOptions) {
    this.#options = options;
    this.owner = options.owner ?? `sync_${randomUUID()}`;
    this.#leaseMs = options.leaseMs ?? 60_000;
  }

  /**
   * Starts syncing one account unless a sync of it is already under way here or on another
   * instance. @returns the id of the run now under way, and whether this call started it.
   */
  start(accountId: string, options: StartOptions): Promise<{ id: string; started: boolean }> {
    const starting = this.#start(accountId, options);
    const settled = starting.then(
      () => undefined,
      () => undefined,
    );
    this.#starting.add(settled);
    void settled.finally(() => this.#starting.delete(settled));
    return starting;
  }

  async #start(accountId: string, options: StartOptions): Promise<{ id: string; started: boolean }> {
    const local = this.#running.get(accountId);
    if (local) return { id: local.id, started: false };
    const db = this.#options.database.db;
    const lease = await acquireSyncLease(db, accountId, this.owner, this.#leaseMs);
    if (!lease) {
      const current = await findSyncAccount(db, accountId);
      if (current?.runId) return { id: current.runId, started: false };
      throw new HooklineError('HL_ERR_CONFLICT', 'A sync of this account is starting on another instance');
    }
    const found = lease.runId ? await findSyncRun(db, lease.runId) : undefined;
    const interrupted = found?.status === 'running' ? found : undefined;
    let run: SyncRunRecord;
    if (interrupted && !options.since) {
      run = interrupted;
    } else {
      // An explicit `since` starts a new window, from `since` or from the interrupted run's start
      // when that is earlier: nothing the interrupted run had still to read is left out.
      if (interrupted) await finishSyncRun(db, interrupted, SUPERSEDED);
      const windowTo = new Date();
      const since =
        options.since && interrupted && interrupted.windowFrom < options.since
          ? interrupted.windowFrom
          : options.since;
      const windowFrom =
        since ??
        (lease.watermark
          ? new Date(lease.watermark.getTime() - (this.#options.overlapMs ?? 600_000))
          : new Date(windowTo.getTime() - (this.#options.lookbackMs ?? 86_400_000)));
      run = await createSyncRun(db, {
        id: `sync_${randomUUID()}`,
        groupId: options.groupId ?? null,
        accountId,
        trigger: options.trigger,
        windowFrom,
        windowTo,
      });
    }
    const done = this.#execute(run).finally(() => this.#running.delete(accountId));
    this.#running.set(accountId, { id: run.id, done });
    return { id: run.id, started: true };
  }

  /** Starts a sync of every connected account the provider lists. */
  async startAll(options: StartOptions): Promise<{ accountId: string; id: string }[]> {
    const accounts = (await this.#listAccounts()).filter(isConnected);
    const runs: { accountId: string; id: string }[] = [];
    for (const account of accounts) {
      const run = await this.start(account.id, options);
      if (!run.started && options.groupId)
        await joinSyncGroup(this.#options.database.db, run.id, options.groupId);
      runs.push({ accountId: account.id, id: run.id });
    }
    return runs;
  }

  /** Waits for every run this instance has under way. */
  async idle(): Promise<void> {
    await Promise.all(this.#starting);
    await Promise.all([...this.#running.values()].map((run) => run.done));
  }

  /** Stops every run at its next page, leaving it to resume later, and lets the leases go. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.idle();
  }

  async #listAccounts(): Promise<RestAccount[]> {
    try {
      const accounts = await this.#options.client.listAccounts(this.#abort.signal);
      return accounts;
    } catch (error) {
      this.#noteAuthFailure(error);
      throw error;
    }
  }

  async #execute(run: SyncRunRecord): Promise<void> {
    const { database, client, logger } = this.#options;
    const signal = this.#abort.signal;
    const db = database.db;
    const heartbeat = setInterval(() => {
      acquireSyncLease(db, run.accountId, this.owner, this.#leaseMs).catch(() => undefined);
    }, this.#leaseMs / 3);
    heartbeat.unref();
    const chats = new ChatDetailsCache(client, () => database.db);
    let cursor = run.cursor;
    // Every cursor this run followed: a provider cycling a → b → a would hold the lease forever.
    const seen = new Set<string>(cursor ? [cursor] : []);
    let pages = run.pages;
    try {
      do {
        const { synced, skipped, next, fetchedAt } = await this.#readPage(run, cursor, chats, signal);
        const oldest = synced.at(-1)?.event.occurredAt ?? null;
        if (skipped.length > 0) {
          logger.warn(
            { syncId: run.id, accountId: run.accountId, skipped: skipped.map((item) => item.reason) },
            'sync skipped listed items it cannot store; they are kept as rejected bodies',
          );
        }
        const applied = await applySyncPage(
          db,
          { id: run.id, accountId: run.accountId, owner: this.owner, leaseMs: this.#leaseMs },
          { messages: synced, skipped },
          { cursor: next, oldestSeen: oldest },
          fetchedAt,
        );
        if (applied.realtimeSeq !== undefined || applied.deliveries > 0) {
          this.#options.changes.emit({ realtimeSeq: applied.realtimeSeq, deliveries: applied.deliveries });
        }
        this.#options.onPage?.(run, applied);
        cursor = next;
        pages++;
        if (cursor && seen.has(cursor)) throw pagingError('GET /messages', 'cursor_cycle');
        if (cursor && pages >= (this.#options.maxPages ?? 1000))
          throw pagingError('GET /messages', 'too_many_pages');
        if (cursor) seen.add(cursor);
      } while (cursor && !signal.aborted);
      if (signal.aborted) return;
      await finishSyncRun(db, run);
      this.authFailure = undefined;
      logger.info({ syncId: run.id, accountId: run.accountId }, 'sync completed');
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof HooklineError && error.code === 'HL_ERR_CONFLICT') {
        logger.warn(
          { syncId: run.id, accountId: run.accountId },
          'sync lease taken over by another instance',
        );
        return;
      }
      this.#noteAuthFailure(error);
      // A provider failure is said by its problem (status, type, reason): one line, no stack trace.
      const cause =
        error instanceof HooklineError && error.code === 'HL_ERR_PROVIDER'
          ? { problem: error.details, reason: error.message }
          : { err: error };
      logger.error({ ...cause, syncId: run.id, accountId: run.accountId }, 'sync failed');
      const details =
        error instanceof HooklineError
          ? { code: error.code, details: error.details }
          : { code: 'HL_ERR_INTERNAL' };
      await finishSyncRun(db, run, details).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
      await releaseSyncLease(db, run.accountId, this.owner).catch(() => undefined);
    }
  }

  /**
   * Reads one page and normalises it. Only the normalised messages outlive this call: the listed
   * items are garbage before the page's transaction starts, so they are not kept (and promoted
   * to the old generation) across its round trips.
   */
  async #readPage(run: SyncRunRecord, cursor: string | null, chats: ChatDetailsCache, signal: AbortSignal) {
    const page = await this.#options.client.listMessages(
      {
        accountId: run.accountId,
        after: run.windowFrom,
        before: run.windowTo,
        cursor,
        limit: this.#options.pageSize ?? 100,
      },
      signal,
    );
    const fetchedAt = new Date();
    const { synced, skipped } = await normalizePage(run.accountId, page.items, chats, signal);
    return { synced, skipped, next: page.cursor, fetchedAt };
  }

  #noteAuthFailure(error: unknown): void {
    const reason = providerAuthFailure(error);
    if (!reason) return;
    this.authFailure = { reason, at: new Date() };
    this.#options.logger.error(
      { reason },
      `The provider refused UNIPILE_API_KEY (${reason}): sync stopped; check the key and its DSN. Webhooks still flow.`,
    );
  }
}
