import type { FastifyReply } from 'fastify';
import type { Db } from '../db/database.js';
import { HooklineError } from '../errors.js';
import { GroupCommitter } from '../shared/group-commit.js';
import { type BudgetDraw, countPendingSends, drawSendBudgets } from './queries/send-budgets.js';

/** SEND_RATE_PER_MINUTE, SEND_ACCOUNT_RATE_PER_MINUTE and SEND_MAX_PENDING_PER_ACCOUNT. */
export interface SendBudgetLimits {
  perSessionPerMinute: number;
  perAccountPerMinute: number;
  maxPendingPerAccount: number;
}

/** How long a client refused for a full queue is asked to wait: the queue drains at provider pace. */
const QUEUE_FULL_RETRY_SECONDS = 30;

function rateLimited(reply: FastifyReply, message: string, retryAfterSeconds: number, details: object) {
  reply.header('retry-after', String(retryAfterSeconds));
  return new HooklineError('HL_ERR_RATE_LIMITED', message, { details: { ...details, retryAfterSeconds } });
}

/** How long an account's count of unsettled sends is trusted before it is read again. */
const PENDING_COUNT_TTL_MS = 1000;

/**
 * Each account's unsettled sends, read from Postgres at most once a second and counted up
 * locally in between: counting up to SEND_MAX_PENDING_PER_ACCOUNT rows for every send cost more
 * than the send itself. The cap can be passed by what one instance accepts in that second (at
 * most SEND_ACCOUNT_RATE_PER_MINUTE / 60, past the burst, on each instance).
 */
class PendingCounts {
  readonly #counts = new Map<string, { count: number; readAt: number }>();

  /** The account's unsettled sends, from the last read if it is fresh. */
  async get(db: Db, accountId: string, cap: number): Promise<number> {
    const known = this.#counts.get(accountId);
    if (known && Date.now() - known.readAt < PENDING_COUNT_TTL_MS) return known.count;
    const count = await countPendingSends(db, accountId, cap);
    this.#counts.set(accountId, { count, readAt: Date.now() });
    if (this.#counts.size > 10_000) this.#forgetStale();
    return count;
  }

  /** Counts one more accepted send of the account until the next read. */
  added(accountId: string): void {
    const known = this.#counts.get(accountId);
    if (known) known.count++;
  }

  #forgetStale(): void {
    const now = Date.now();
    for (const [accountId, known] of this.#counts) {
      if (now - known.readAt >= PENDING_COUNT_TTL_MS) this.#counts.delete(accountId);
    }
  }
}

/**
 * The send budgets of one instance (docs/sending.md, "Budgets"): the account's queue
 * (SEND_MAX_PENDING_PER_ACCOUNT), then one draw from the session's budget (tokens; an API-token
 * send has none) and the account's. Draws of sends that arrive together are committed together
 * (drawSendBudgets), so a burst of sends costs the budget rows one transaction, not one each.
 */
export class SendBudgets {
  readonly #db: Db;
  readonly #limits: SendBudgetLimits;
  readonly #pending = new PendingCounts();
  readonly #draws: GroupCommitter<BudgetDraw[], number>;

  constructor(db: Db, limits: SendBudgetLimits) {
    this.#db = db;
    this.#limits = limits;
    this.#draws = new GroupCommitter({ flush: (sends) => drawSendBudgets(db, sends), concurrency: 1 });
  }

  /**
   * Charges one send before anything of it is stored. Throws `429 HL_ERR_RATE_LIMITED` with
   * `Retry-After` (seconds) when its account's queue is full or one of its budgets is spent.
   */
  async charge(
    reply: FastifyReply,
    send: { accountId: string; sessionKey: string | undefined },
  ): Promise<void> {
    const limits = this.#limits;
    if (
      (await this.#pending.get(this.#db, send.accountId, limits.maxPendingPerAccount)) >=
      limits.maxPendingPerAccount
    ) {
      throw rateLimited(
        reply,
        'Too many sends of this account wait for the provider',
        QUEUE_FULL_RETRY_SECONDS,
        {
          limit: limits.maxPendingPerAccount,
          budget: 'pending',
        },
      );
    }
    const draws: BudgetDraw[] = [{ key: `account:${send.accountId}`, perMinute: limits.perAccountPerMinute }];
    if (send.sessionKey)
      draws.push({ key: `session:${send.sessionKey}`, perMinute: limits.perSessionPerMinute });
    const waitMs = await this.#draws.submit(draws);
    if (waitMs > 0) {
      throw rateLimited(
        reply,
        'Send budget spent; retry after the wait',
        Math.max(1, Math.ceil(waitMs / 1000)),
        {
          budget: 'rate',
          perSessionPerMinute: limits.perSessionPerMinute,
          perAccountPerMinute: limits.perAccountPerMinute,
        },
      );
    }
    this.#pending.added(send.accountId);
  }
}
