import { sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { queryRows } from './rows.js';
import { transaction } from './transaction.js';

/** One budget a send draws on: its key (`session:…`, `account:…`) and how many it allows a minute. */
export interface BudgetDraw {
  key: string;
  perMinute: number;
}

const MINUTE_MS = 60_000;

/**
 * Draws one send from every budget in `draws`, all or none (GCRA: each budget's `next_at` moves
 * by a minute / its rate per send, and may run at most a minute ahead of now, so a full minute's
 * worth may go at once and then one per interval). Rows are locked in key order, so concurrent
 * draws on any instance serialise per budget without deadlocking.
 * @returns 0 when drawn; otherwise the milliseconds until every budget has room again.
 */
export async function drawSendBudgets(db: Db, draws: readonly BudgetDraw[]): Promise<number> {
  const keys = JSON.stringify([...draws.map((draw) => draw.key)].sort());
  return transaction(db, async (tx) => {
    await tx.execute(
      sql`insert into send_budgets (key, next_at) select jsonb_array_elements_text(${keys}::jsonb), now()
        on conflict (key) do nothing`,
    );
    const rows = await queryRows<{ key: string; aheadMs: number }>(
      tx,
      sql`select key, greatest(0, extract(epoch from next_at - now()) * 1000)::float8 as "aheadMs"
        from send_budgets where key in (select jsonb_array_elements_text(${keys}::jsonb)) order by key for update`,
    );
    const ahead = new Map(rows.map((row) => [row.key, Number(row.aheadMs)]));
    let waitMs = 0;
    for (const draw of draws) {
      const next = (ahead.get(draw.key) ?? 0) + MINUTE_MS / draw.perMinute;
      waitMs = Math.max(waitMs, next - MINUTE_MS);
    }
    if (waitMs > 0) return waitMs;
    for (const draw of draws) {
      await tx.execute(
        sql`update send_budgets set next_at = greatest(next_at, now())
            + ${MINUTE_MS / draw.perMinute}::float8 * interval '1 millisecond'
          where key = ${draw.key}`,
      );
    }
    return 0;
  });
}

/** Sends of `accountId` not settled yet (queued, sending, unknown), counted up to `cap`. */
export async function countPendingSends(db: Db, accountId: string, cap: number): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`select count(*)::int as count from (
        select 1 from sends where account_id = ${accountId} and status in ('queued', 'sending', 'unknown')
        limit ${cap}::int
      ) pending`,
  );
  return Number(row?.count ?? 0);
}

/**
 * Deletes `send_requests` older than `idempotencyHours` (their keys no longer replay) and budget
 * rows whose time has passed (as good as none).
 * @returns how many idempotency rows were deleted.
 */
export async function pruneSendBookkeeping(db: Db, idempotencyHours: number): Promise<number> {
  const rows = await queryRows<{ count: number }>(
    db,
    sql`with gone as (
        delete from send_requests where created_at <= now() - ${idempotencyHours}::int * interval '1 hour'
        returning 1
      )
      select count(*)::int as count from gone`,
  );
  await db.execute(sql`delete from send_budgets where next_at < now()`);
  return Number(rows[0]?.count ?? 0);
}

/** The accounts among `accountIds` (all when undefined) that have a chat `chatId`. */
export async function accountsWithChat(
  db: Db,
  chatId: string,
  accountIds: readonly string[] | undefined,
): Promise<string[]> {
  const rows = await queryRows<{ accountId: string }>(
    db,
    sql`select account_id as "accountId" from chats where id = ${chatId}
      ${accountIds === undefined ? sql`` : sql`and account_id in (select jsonb_array_elements_text(${JSON.stringify(accountIds)}::jsonb))`}
      limit 1`,
  );
  return rows.map((row) => row.accountId);
}
