import { inArray, sql } from 'drizzle-orm';
import { messages, sends } from '../../drizzle/schema.js';
import type { Executor, Tx } from './database.js';
import type { MessageRecord } from './messages.js';
import { queryRows } from './rows.js';
import { type NewSend, SENDS_CHANNEL, type SendRow } from './sends.js';

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

/** One send to settle as `sent` with the provider's id, if it is still in one of `expected`. */
export interface SentRow {
  localId: string;
  providerId: string;
  settledBy: string;
  expected: readonly string[];
}

/**
 * Settles sends as `sent` in one statement, each only while its status is one of its `expected`
 * (the UPDATE locks the row and re-checks, so an echo that settled it first wins): the send row
 * takes its provider id, its message takes that id as its own, the chat's last message follows,
 * and its uploaded files are dropped. A message whose provider id is already stored (the echo was ingested as a message of
 * its own first) is left for `assignProviderId`, which merges the two.
 *
 * @returns the local ids settled, and among them those whose message took the provider id here.
 */
export async function settleSentRows(
  tx: Tx,
  rows: readonly SentRow[],
): Promise<{ settled: Set<string>; moved: Set<string> }> {
  if (rows.length === 0) return { settled: new Set(), moved: new Set() };
  const result = await queryRows<{ localId: string; moved: boolean }>(
    tx,
    sql`
      with v as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as v("localId" text, "providerId" text, "settledBy" text, expected jsonb)
      ), settled as (
        update sends s set status = 'sent', provider_message_id = v."providerId",
          settled_by = v."settledBy", lease_expires_at = null, last_error = null, updated_at = now()
        from v
        where s.local_id = v."localId" and s.status in (select jsonb_array_elements_text(v.expected))
        returning s.local_id, s.account_id, v."providerId" as provider_id
      ), moved as (
        update messages m set id = settled.provider_id, send_status = 'sent', updated_at = now()
        from settled
        where m.local_id = settled.local_id
          and not exists (select from messages e where e.account_id = settled.account_id and e.id = settled.provider_id)
        returning m.local_id, m.account_id, m.id
      ), chats_moved as (
        update chats c set last_message_id = moved.id
        from moved where c.account_id = moved.account_id and c.last_message_id = moved.local_id
      ), files_dropped as (
        delete from send_attachments a using settled where a.local_id = settled.local_id
      )
      select settled.local_id as "localId",
        exists (select from moved where moved.local_id = settled.local_id) as moved
      from settled`,
  );
  return {
    settled: new Set(result.map((row) => row.localId)),
    moved: new Set(result.filter((row) => row.moved).map((row) => row.localId)),
  };
}

/** The messages of these local ids. */
export async function findSentMessages(
  executor: Executor,
  localIds: readonly string[],
): Promise<MessageRecord[]> {
  if (localIds.length === 0) return [];
  return executor
    .select()
    .from(messages)
    .where(inArray(messages.localId, [...localIds]));
}

/** The chats of these (account, chat) pairs that exist, as `accountId\nchatId` keys. */
export async function existingChats(
  executor: Executor,
  pairs: readonly { accountId: string; chatId: string }[],
): Promise<Set<string>> {
  const rows = await queryRows<{ key: string }>(
    executor,
    sql`select c.account_id || E'\n' || c.id as key
      from chats c join jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as v("accountId" text, "chatId" text)
        on c.account_id = v."accountId" and c.id = v."chatId"`,
  );
  return new Set(rows.map((row) => row.key));
}

/**
 * Takes the `Idempotency-Key`s of a batch of sends, each for its local id (the answer is written
 * by {@link setSendKeyResponses} once known). An expired key is taken over; a live one, or one a
 * concurrent transaction holds (waited for), is not.
 *
 * @returns the local ids whose key was taken here.
 */
export async function takeSendKeys(
  tx: Tx,
  rows: readonly { accountId: string; key: string; localId: string }[],
  ttlHours: number,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const taken = await queryRows<{ localId: string }>(
    tx,
    sql`insert into send_requests (account_id, key, local_id, response)
      select v."accountId", v.key, v."localId", 'null'::jsonb
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v("accountId" text, key text, "localId" text)
      on conflict (account_id, key) do update set local_id = excluded.local_id,
        response = excluded.response, created_at = now()
      where send_requests.created_at <= now() - ${ttlHours}::int * interval '1 hour'
      returning local_id as "localId"`,
  );
  return new Set(taken.map((row) => row.localId));
}

/** Writes the answers of keys taken by {@link takeSendKeys}, which replays give. */
export async function setSendKeyResponses(
  tx: Tx,
  rows: readonly { localId: string; response: unknown }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`update send_requests r set response = v.response
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v("localId" text, response jsonb)
    where r.local_id = v."localId"`);
}

/**
 * Stores a batch of new sends whose chat exists: in one statement the
 * queue rows, each chat's last message moved to the batch's newest in it, and the NOTIFY on
 * {@link SENDS_CHANNEL} that wakes every instance's worker at commit; then their messages,
 * `pending` under their local ids. A send whose chat does not exist is not stored.
 *
 * @returns the message rows stored, in batch order.
 */
export async function insertSends(tx: Tx, batch: readonly NewSend[]): Promise<MessageRecord[]> {
  if (batch.length === 0) return [];
  const rows = batch.map(({ localId, accountId, chatId, text, quoteId }) => ({
    localId,
    accountId,
    chatId,
    text,
    quoteId,
  }));
  const queued = await queryRows<{ localId: string }>(
    tx,
    sql`
      with v as (
        select * from rows from (
          jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as ("localId" text, "accountId" text, "chatId" text, text text, "quoteId" text)
        ) with ordinality as v("localId", "accountId", "chatId", text, "quoteId", n)
      ), stored as (
        insert into sends (local_id, account_id, chat_id, text, quote_id, status)
        select v."localId", v."accountId", v."chatId", v.text, v."quoteId", 'queued'
        from v join chats c on c.account_id = v."accountId" and c.id = v."chatId"
        returning local_id, account_id, chat_id, text
      ), newest as (
        -- One row per chat (an UPDATE … FROM matching a row twice would pick either).
        select distinct on (stored.account_id, stored.chat_id) stored.*
        from stored join v on v."localId" = stored.local_id
        order by stored.account_id, stored.chat_id, v.n desc
      ), chats_moved as (
        update chats c set last_message_at = now(), last_message_id = newest.local_id,
          last_message_preview = hookline_message_preview(newest.text, '[]'::jsonb), updated_at = now()
        from newest where c.account_id = newest.account_id and c.id = newest.chat_id
      )
      -- NOTIFY queues one notification per transaction for equal channel and payload.
      select local_id as "localId", pg_notify(${SENDS_CHANNEL}, '') from stored`,
  );
  const stored = new Set(queued.map((row) => row.localId));
  const kept = batch.filter((send) => stored.has(send.localId));
  if (kept.length === 0) return [];
  const inserted = await tx
    .insert(messages)
    .values(
      kept.map((send) => ({
        accountId: send.accountId,
        id: send.localId,
        chatId: send.chatId,
        state: 'received',
        text: send.text,
        isSender: true,
        sentAt: sql`now()`,
        localId: send.localId,
        sendStatus: 'pending',
        attachments: send.attachments ?? [],
        quoted: send.quoteId ? { id: send.quoteId } : null,
      })),
    )
    .returning();
  const byLocalId = new Map(inserted.map((message) => [message.localId, message]));
  return kept.map((send) => byLocalId.get(send.localId) as MessageRecord);
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
        and s.status in ('sending', 'unknown') and s.text = v.text
        and s.created_at > now() - ${windowSeconds}::int * interval '1 second')`,
  );
  return new Set(rows.map((row) => Number(row.n) - 1));
}
