import { inArray, sql } from 'drizzle-orm';
import { sends } from '../../../drizzle/schema.js';
import type { Executor, Tx } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';
import type { OwnMessageRow, SettledBy, SettledMessageRow } from '../../events/index.js';
import { type NewSend, SENDS_CHANNEL, type SendRow, unconfirmedFailure } from './sends.js';
import type { SentRecord } from './settle-parameters.js';

/**
 * Locks several send rows for a state change, in `local_id` order so that two transactions
 * locking overlapping sets wait for each other instead of deadlocking.
 */
export async function lockSends(tx: Tx, localIds: readonly string[]): Promise<SendRow[]> {
  if (localIds.length === 0) return [];
  return tx
    .select()
    .from(sends)
    .where(inArray(sends.localId, [...localIds]))
    .orderBy(sends.localId)
    .for('update');
}

/** The send rows of these local ids, unlocked (to report on, not to change). */
export async function findSends(executor: Executor, localIds: readonly string[]): Promise<SendRow[]> {
  if (localIds.length === 0) return [];
  return executor
    .select()
    .from(sends)
    .where(inArray(sends.localId, [...localIds]));
}

/** One send to settle as `sent` with the provider's id, if it is still in one of `expected`. */
export interface SentRow {
  localId: string;
  providerId: string;
  settledBy: SettledBy;
  expected: readonly string[];
}

/**
 * Settles sends as `sent` in one call (`hookline_settle_sent`): each send only while its status
 * is one of its `expected` (an echo that settled it first wins), its message under the provider's
 * id (merged with the echo's when the echo stored it first), the chat's last message following,
 * its files dropped.
 *
 * @returns the messages of the sends settled, as stored now, in `rows` order.
 */
export async function settleSent(tx: Tx, rows: readonly SentRow[]): Promise<SettledMessageRow[]> {
  if (rows.length === 0) return [];
  const sent: SentRecord[] = rows.map((row, ord) => ({
    ord,
    local_id: row.localId,
    provider_id: row.providerId,
    settled_by: row.settledBy,
    expected: [...row.expected],
  }));
  const settled = await queryRows<RawMessageRow & { settledBy: SettledBy }>(
    tx,
    sql`select settled_by as "settledBy", ${OWN_MESSAGE_COLUMNS}
      from hookline_settle_sent(${JSON.stringify(sent)}::json) order by ord`,
  );
  return settled.map((row) => ({ ...ownMessageRow(row), settledBy: row.settledBy }));
}

/** One new send of the store's `batch` parameter: its keys are the columns the statement reads. */
interface SendRecord {
  /** Position in the batch, from 0: the order its messages are published in. */
  ord: number;
  local_id: string;
  account_id: string;
  chat_id: string;
  text: string;
  quote_id: string | null;
  /** What the read API and envelopes show of the uploaded files. */
  attachments: readonly object[];
}

/**
 * Stores a batch of new sends whose chat exists in one statement: their queue rows, each chat's
 * last message moved to the batch's newest in it, their messages, `pending` under their local
 * ids, and the NOTIFY on {@link SENDS_CHANNEL} that wakes every instance's worker at commit. A
 * send whose chat does not exist is not stored. The caller publishes their `message:new`s last.
 *
 * @returns the stored messages, in batch order.
 */
export async function storeSends(tx: Tx, batch: readonly NewSend[]): Promise<OwnMessageRow[]> {
  if (batch.length === 0) return [];
  const sends: SendRecord[] = batch.map((send, ord) => ({
    ord,
    local_id: send.localId,
    account_id: send.accountId,
    chat_id: send.chatId,
    text: send.text,
    quote_id: send.quoteId,
    attachments: send.attachments ?? [],
  }));
  const stored = await queryRows<RawMessageRow>(
    tx,
    sql`with batch as (
        select * from json_to_recordset(${JSON.stringify(sends)}::json) as batch(ord integer,
          local_id text, account_id text, chat_id text, text text, quote_id text, attachments jsonb)
      ), queued as (
        insert into sends (local_id, account_id, chat_id, text, quote_id, status)
        select batch.local_id, batch.account_id, batch.chat_id, batch.text, batch.quote_id, 'queued'
        from batch join chats as chat on chat.account_id = batch.account_id and chat.id = batch.chat_id
        returning local_id
      ), newest as (
        -- One row per chat (an UPDATE … FROM matching a row twice would pick either).
        select distinct on (batch.account_id, batch.chat_id) batch.*
        from batch join queued on queued.local_id = batch.local_id
        order by batch.account_id, batch.chat_id, batch.ord desc
      ), chats_moved as (
        update chats as chat set last_message_at = now(), last_message_id = newest.local_id,
          last_message_preview = hookline_message_preview(newest.text, '[]'::jsonb), updated_at = now()
        from newest where chat.account_id = newest.account_id and chat.id = newest.chat_id
      ), stored as (
        insert into messages (account_id, id, chat_id, state, text, is_sender, sent_at, local_id,
          send_status, attachments, quoted)
        select batch.account_id, batch.local_id, batch.chat_id, 'received', batch.text, true, now(),
          batch.local_id, 'pending', coalesce(batch.attachments, '[]'),
          case when batch.quote_id is null then null else jsonb_build_object('id', batch.quote_id) end
        from batch join queued on queued.local_id = batch.local_id
        returning *
      ), notified as (
        -- Read only when something was stored; one row is enough (one NOTIFY per transaction).
        select pg_notify(${SENDS_CHANNEL}, '') from stored limit 1
      )
      select ${OWN_MESSAGE_COLUMNS}
      from (select stored.*, batch.ord from stored join batch on batch.local_id = stored.local_id) as stored
        left join notified on true
      order by stored.ord`,
  );
  return stored.map(ownMessageRow);
}

/** The columns of a stored message the send statements return, named as in {@link OwnMessageRow}. */
const OWN_MESSAGE_COLUMNS = sql.raw(`account_id as "accountId", id, chat_id as "chatId",
  local_id as "localId", send_status as "sendStatus", text, sender, is_sender as "isSender",
  attachments, reactions, sent_at as "sentAt", edited_at as "editedAt", deleted_at as "deletedAt",
  read_at as "readAt", delivered_at as "deliveredAt"`);

type TimeColumn = 'sentAt' | 'editedAt' | 'deletedAt' | 'readAt' | 'deliveredAt';
/** An {@link OwnMessageRow} as `execute` reads it: times arrive as text. */
type RawMessageRow = Omit<OwnMessageRow, TimeColumn> & Record<TimeColumn, Date | string | null>;

const asDate = (value: Date | string | null) =>
  value === null || value instanceof Date ? value : new Date(value);

/** A returned message with its times as dates. */
function ownMessageRow(row: RawMessageRow): OwnMessageRow {
  return {
    ...row,
    sentAt: asDate(row.sentAt),
    editedAt: asDate(row.editedAt),
    deletedAt: asDate(row.deletedAt),
    readAt: asDate(row.readAt),
    deliveredAt: asDate(row.deliveredAt),
  };
}

/** An echo's identity, as a send matches it (see `lockEchoCandidate`). */
export interface EchoKey {
  accountId: string;
  chatId: string;
  text: string;
}

/**
 * Which of these echoes an open send (attempt recorded, not settled) created within
 * `windowSeconds` may be, by index: one unlocked read for the whole batch, so that the common
 * case (every send already settled by its 201) costs no transaction.
 */
export async function echoesWithOpenSends(
  executor: Executor,
  echoes: readonly EchoKey[],
  windowSeconds: number,
): Promise<Set<number>> {
  const rows = await queryRows<{ n: string | number }>(
    executor,
    sql`select v.n from rows from (
        jsonb_to_recordset(${JSON.stringify(echoes)}::jsonb) as ("accountId" text, "chatId" text, text text)
      ) with ordinality as v("accountId", "chatId", text, n)
      where exists (select from sends s where s.account_id = v."accountId" and s.chat_id = v."chatId"
        and (s.status in ('sending', 'unknown') or ${unconfirmedFailure(sql`s`)}) and s.text = v.text
        and s.created_at > now() - ${windowSeconds}::int * interval '1 second')`,
  );
  return new Set(rows.map((row) => Number(row.n) - 1));
}
