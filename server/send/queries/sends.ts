import { and, eq, notInArray, type SQL, sql } from 'drizzle-orm';
import { messages, sends } from '../../../drizzle/schema.js';
import type { Executor, Tx } from '../../db/database.js';
import { MESSAGE_COLUMNS, type MessageRecord } from '../../db/messages.js';
import { queryRows } from '../../db/rows.js';

/** A row of `sends`: one outgoing message and its state. */
export type SendRow = typeof sends.$inferSelect;

/** What the send route stores. */
export interface NewSend {
  localId: string;
  accountId: string;
  chatId: string;
  text: string;
  quoteId: string | null;
  /** The message's `attachments`: what the read API and envelopes show of uploaded files. Default none. */
  attachments?: readonly object[];
}

/** A send the worker now owns: `sending` (attempt recorded: send it) or `unknown` (look it up). */
export interface ClaimedSend {
  localId: string;
  accountId: string;
  chatId: string;
  text: string;
  quoteId: string | null;
  /** `sending` (send it) or `unknown` (look it up). */
  status: 'sending' | 'unknown';
  /** Attempts recorded, this one included. */
  attempts: number;
  /** Resends already made after a lookup found no copy (SEND_UNCONFIRMED_RESENDS). */
  unconfirmedResends: number;
  attemptStartedAt: Date | null;
  /** Whether files wait in `send_attachments` to go with it. */
  hasAttachments: boolean;
}

/**
 * Claims due sends with `FOR UPDATE SKIP LOCKED` and, for queued ones, records the attempt in
 * the same statement: they come back `sending`, committed BEFORE the worker writes the request,
 * so from here on a crash or an expired lease means "maybe sent" (docs/sending.md). Unknown
 * sends whose lookup is due come back `unknown`. The lease end goes to `next_attempt_at`, so an
 * abandoned lookup is due again.
 */
export async function claimDueSends(
  executor: Executor,
  limit: number,
  leaseMs: number,
): Promise<ClaimedSend[]> {
  const rows = await queryRows<ClaimedSend & { attemptStartedAt: string | Date | null }>(
    executor,
    sql`
      with picked as (
        select local_id from sends
        where status in ('queued', 'unknown') and next_attempt_at <= now()
        order by next_attempt_at
        limit ${limit}::int
        for update skip locked
      )
      update sends s set
        status = case when s.status = 'unknown' then 'unknown' else 'sending' end,
        attempts = case when s.status = 'unknown' then s.attempts else s.attempts + 1 end,
        attempt_started_at = case when s.status = 'unknown' then s.attempt_started_at else now() end,
        next_attempt_at = now() + ${leaseMs}::int * interval '1 millisecond',
        lease_expires_at = now() + ${leaseMs}::int * interval '1 millisecond',
        updated_at = now()
      from picked where s.local_id = picked.local_id
      returning s.local_id as "localId", s.account_id as "accountId", s.chat_id as "chatId", s.text,
        s.quote_id as "quoteId", s.status, s.attempts,
        s.unconfirmed_resends as "unconfirmedResends", s.attempt_started_at as "attemptStartedAt",
        exists (select from send_attachments a where a.local_id = s.local_id) as "hasAttachments"`,
  );
  return rows.map((row) => ({
    ...row,
    attempts: Number(row.attempts),
    unconfirmedResends: Number(row.unconfirmedResends),
    attemptStartedAt: row.attemptStartedAt === null ? null : new Date(row.attemptStartedAt),
  }));
}

/** Locks a send row for a state change (waits for a concurrent settle to finish). */
export async function lockSend(tx: Tx, localId: string): Promise<SendRow | undefined> {
  const [row] = await tx.select().from(sends).where(eq(sends.localId, localId)).for('update');
  return row;
}

/** Sends whose attempt was recorded but whose lease expired with no outcome: locked, to become unknown. */
export async function lockExpiredAttempts(tx: Tx, limit: number): Promise<SendRow[]> {
  return tx
    .select()
    .from(sends)
    .where(and(eq(sends.status, 'sending'), sql`${sends.leaseExpiresAt} < now()`))
    .limit(limit)
    .for('update', { skipLocked: true });
}

/**
 * The oldest open send (attempt recorded, not settled, or failed as `unconfirmed`) that an echo in `chatId` from the account
 * with the same text may be, created within `windowSeconds`, but for the `picked` local ids
 * (matched to other echoes of the same transaction): locked, so that the worker's own outcome
 * and the echo settle one after the other. An echo whose id is already stored matches nothing.
 */
export async function lockEchoCandidate(
  tx: Tx,
  echo: { accountId: string; chatId: string; text: string; messageId: string },
  windowSeconds: number,
  picked: readonly string[] = [],
): Promise<SendRow | undefined> {
  const [row] = await tx
    .select()
    .from(sends)
    .where(
      and(
        eq(sends.accountId, echo.accountId),
        eq(sends.chatId, echo.chatId),
        sql`(${sends.status} in ('sending', 'unknown') or ${unconfirmedFailure(sql`"sends"`)})`,
        eq(sends.text, echo.text),
        sql`${sends.createdAt} > now() - ${windowSeconds}::int * interval '1 second'`,
        picked.length > 0 ? notInArray(sends.localId, [...picked]) : undefined,
        // An echo whose id is already stored (the 201 came first) is that message's, not another's.
        sql`not exists (select from messages m where m.account_id = ${echo.accountId} and m.id = ${echo.messageId})`,
      ),
    )
    .orderBy(sends.createdAt)
    .limit(1)
    .for('update');
  return row;
}

/**
 * A send that ended `failed` as `unconfirmed` (maybe sent): a late echo still settles it as
 * `sent`, instead of leaving a failed message beside the real one. `send` names the sends row.
 */
export function unconfirmedFailure(send: SQL): SQL {
  return sql`(${send}.status = 'failed' and exists (select from messages m
    where m.local_id = ${send}.local_id and m.send_failure_reason = 'unconfirmed'))`;
}

/** Updates a locked send row. */
export async function updateSend(
  tx: Tx,
  localId: string,
  set: Partial<Omit<SendRow, 'localId' | 'createdAt'>>,
): Promise<void> {
  await tx
    .update(sends)
    .set({ ...set, updatedAt: sql`now()` })
    .where(eq(sends.localId, localId));
}

/**
 * Sets a sent message's status, with the failure's reason code and text for `failed` (cleared for
 * any other status); returns its row.
 */
export async function setMessageSendStatus(
  tx: Tx,
  localId: string,
  status: string,
  failure?: { reason: string; error: string },
): Promise<MessageRecord | undefined> {
  const [row] = await tx
    .update(messages)
    .set({
      sendStatus: status,
      sendFailureReason: failure?.reason ?? null,
      sendError: failure?.error ?? null,
      updatedAt: sql`now()`,
    })
    .where(eq(messages.localId, localId))
    .returning();
  return row;
}

/** The message of a local id, if it is still stored. */
export async function findSentMessage(
  executor: Executor,
  localId: string,
): Promise<MessageRecord | undefined> {
  const [row] = await executor.select(MESSAGE_COLUMNS).from(messages).where(eq(messages.localId, localId));
  return row;
}

/** Whether the account already holds a message with this provider id (a lookup must not reuse it). */
export async function messageIdTaken(executor: Executor, accountId: string, id: string): Promise<boolean> {
  const rows = await executor
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.accountId, accountId), eq(messages.id, id), sql`${messages.localId} is not null`));
  return rows.length > 0;
}

/** NOTIFY channel that wakes the send workers of every instance when sends are queued. */
export const SENDS_CHANNEL = 'hookline_sends';

/** Wakes every instance's send worker once the transaction commits (LISTEN on {@link SENDS_CHANNEL}). */
export async function notifySendsQueued(executor: Executor): Promise<void> {
  await executor.execute(sql`select pg_notify(${SENDS_CHANNEL}, '')`);
}
