import { sql } from 'drizzle-orm';
import type { Db } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import { transaction } from '../../db/transaction.js';

/** One budget a send draws on: its key (`session:…`, `account:…`) and how many it allows a minute. */
export interface BudgetDraw {
  key: string;
  perMinute: number;
}

const MINUTE_MS = 60_000;

/**
 * Draws the sends of a batch from their budgets, in order, in one transaction (sends arriving
 * together share it: the budget rows are read and written once per batch, not once per send).
 * GCRA: each budget's `next_at` moves by a minute / its rate per send, and may run at most a
 * minute ahead of now, so a full minute's worth may go at once and then one per interval. A send
 * draws from all of its budgets or from none. Rows are locked in key order, so concurrent batches
 * on any instance serialise per budget without deadlocking.
 * @returns per send, 0 when drawn; otherwise the milliseconds until every one of its budgets has
 * room again.
 */
export async function drawSendBudgets(db: Db, sends: readonly (readonly BudgetDraw[])[]): Promise<number[]> {
  const keys = JSON.stringify([...new Set(sends.flatMap((draws) => draws.map((draw) => draw.key)))].sort());
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
    const changed = new Set<string>();
    const waits = sends.map((draws) => {
      let waitMs = 0;
      for (const draw of draws) {
        waitMs = Math.max(waitMs, (ahead.get(draw.key) ?? 0) + MINUTE_MS / draw.perMinute - MINUTE_MS);
      }
      if (waitMs > 0) return waitMs;
      for (const draw of draws) {
        ahead.set(draw.key, (ahead.get(draw.key) ?? 0) + MINUTE_MS / draw.perMinute);
        changed.add(draw.key);
      }
      return 0;
    });
    if (changed.size > 0) {
      const next = JSON.stringify([...changed].map((key) => ({ key, ahead: ahead.get(key) })));
      await tx.execute(
        sql`update send_budgets b set next_at = now() + x.ahead * interval '1 millisecond'
          from jsonb_to_recordset(${next}::jsonb) as x(key text, ahead float8) where b.key = x.key`,
      );
    }
    return waits;
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
