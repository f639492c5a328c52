import { sql } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { queryRows } from '../db/rows.js';

/**
 * The read-status queue (`read_marks`): chats to mark read at the provider. One row per chat, so
 * a chat read twice while its mark waits is marked once; a mark requested again while one is in
 * flight survives that attempt (its `requested_at` moved on).
 */

/** One chat whose read state the provider should learn. */
export interface ReadMarkKey {
  accountId: string;
  chatId: string;
}

/** A mark the worker now owns (its lease is `next_attempt_at`). */
export interface ClaimedReadMark extends ReadMarkKey {
  /** Attempts made, this one included. */
  attempts: number;
  /** Identifies this request: the row is deleted on success only if nobody asked again since. */
  requestedAt: string;
}

/** Queues marks (in the caller's transaction); an existing one becomes due now. */
export async function queueReadMarks(executor: Executor, keys: readonly ReadMarkKey[]): Promise<void> {
  if (keys.length === 0) return;
  await executor.execute(sql`
    insert into read_marks (account_id, chat_id)
    select account_id, chat_id from jsonb_to_recordset(${JSON.stringify(
      keys.map((key) => ({ account_id: key.accountId, chat_id: key.chatId })),
    )}::jsonb) as mark(account_id text, chat_id text)
    on conflict (account_id, chat_id) do update set
      requested_at = clock_timestamp(), attempts = 0, next_attempt_at = now(), last_error = null`);
}

/** Claims due marks with `FOR UPDATE SKIP LOCKED`, leasing each for `leaseMs`. */
export function claimDueReadMarks(
  executor: Executor,
  limit: number,
  leaseMs: number,
): Promise<ClaimedReadMark[]> {
  return queryRows<ClaimedReadMark>(
    executor,
    sql`
      with picked as (
        select account_id, chat_id from read_marks
        where next_attempt_at <= now()
        order by next_attempt_at
        limit ${limit}::int
        for update skip locked
      )
      update read_marks r set
        attempts = r.attempts + 1,
        next_attempt_at = now() + ${leaseMs}::int * interval '1 millisecond'
      from picked
      where r.account_id = picked.account_id and r.chat_id = picked.chat_id
      returning r.account_id as "accountId", r.chat_id as "chatId", r.attempts,
        to_char(r.requested_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as "requestedAt"`,
  );
}

/** Done (accepted, or refused for good): the row goes, unless the chat was marked again since. */
export async function finishReadMark(executor: Executor, mark: ClaimedReadMark): Promise<void> {
  await executor.execute(sql`
    delete from read_marks
    where account_id = ${mark.accountId} and chat_id = ${mark.chatId}
      and requested_at = (${mark.requestedAt}::timestamp at time zone 'UTC')`);
}

/** A failed attempt: due again at `at`, with its reason kept for operators. */
export async function retryReadMark(
  executor: Executor,
  mark: ClaimedReadMark,
  at: Date,
  error: string,
): Promise<void> {
  await executor.execute(sql`
    update read_marks set next_attempt_at = ${at.toISOString()}::timestamptz, last_error = ${error}
    where account_id = ${mark.accountId} and chat_id = ${mark.chatId}
      and requested_at = (${mark.requestedAt}::timestamp at time zone 'UTC')`);
}
