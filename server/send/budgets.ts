import type { FastifyReply } from 'fastify';
import type { Db } from '../db/database.js';
import { type BudgetDraw, countPendingSends, drawSendBudgets } from '../db/send-budgets.js';
import { HooklineError } from '../errors.js';

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

/**
 * Checks a send against its budgets before anything of it is stored (docs/sending.md, "Budgets"):
 * the account's queue (SEND_MAX_PENDING_PER_ACCOUNT), then one draw from the session's budget
 * (tokens; an API-token send has none) and the account's, both or neither. Throws
 * `429 HL_ERR_RATE_LIMITED` with `Retry-After` (seconds) when one is spent.
 */
export async function chargeSendBudgets(
  db: Db,
  reply: FastifyReply,
  limits: SendBudgetLimits,
  send: { accountId: string; sessionKey: string | undefined },
): Promise<void> {
  const pending = await countPendingSends(db, send.accountId, limits.maxPendingPerAccount);
  if (pending >= limits.maxPendingPerAccount) {
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
  const waitMs = await drawSendBudgets(db, draws);
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
}
