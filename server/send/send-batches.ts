import { inArray, sql } from 'drizzle-orm';
import { sends } from '../../drizzle/schema.js';
import type { Executor, Tx } from '../db/database.js';
import type { SendRecord, SentRecord } from '../db/ingest-parameters.js';
import {
  DELIVERIES_CHANNEL,
  type OutboxWrites,
  type Published,
  published,
  REALTIME_APPEND_LOCK,
  REALTIME_CHANNEL,
} from '../db/outboxes.js';
import { queryRows } from '../db/rows.js';
import { type NewSend, SENDS_CHANNEL, type SendRow, unconfirmedFailure } from './sends.js';

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
  settledBy: string;
  expected: readonly string[];
}

/** How {@link settleSent} publishes. */
export interface SettleOptions {
  /** Publish the changes in the call, which is then the transaction's last statement. */
  publish: boolean;
  /** The realtime envelope `type` of the status change (`message:updated`). */
  realtimeType: string;
  /** The Standard Webhooks `type` of a sent message (`message.sent`). */
  outboundType: string;
}

/** What {@link settleSent} did: the sends settled, and what it published or left to publish. */
export interface Settled {
  /** Local ids of the sends settled (those still in an expected status). */
  settled: Set<string>;
  /** With `publish`: what was published. */
  published: Published;
  /** Without `publish`: the changes, for the caller to publish last. */
  unpublished: Required<OutboxWrites>;
}

/**
 * Settles sends as `sent` in one call (`hookline_settle_sent`): each send only while its status
 * is one of its `expected` (an echo that settled it first wins), its message under the provider's
 * id (merged with the echo's when the echo stored it first), the chat's last message following,
 * its files dropped; and the `message:updated` and `message.sent` of each, built from the rows.
 * With `publish`, they are published (on the pool the call is its own transaction; in one, it
 * must be the last statement, see publishToOutboxes); without, they are returned.
 */
export async function settleSent(
  executor: Executor,
  rows: readonly SentRow[],
  options: SettleOptions,
): Promise<Settled> {
  if (rows.length === 0)
    return { settled: new Set(), published: { deliveries: 0 }, unpublished: { realtime: [], outbound: [] } };
  const sent: SentRecord[] = rows.map((row, ord) => ({
    ord,
    local_id: row.localId,
    provider_id: row.providerId,
    settled_by: row.settledBy,
    expected: [...row.expected],
  }));
  const [row] = await queryRows<{
    result: {
      settled: string[];
      deliveries?: number;
      realtimeSeq?: number | string | null;
      realtime?: { account_id: string; type: string; data: unknown }[];
      outbound?: { type: string; account_id: string; webhook_id: string; payload: unknown }[];
    };
  }>(
    executor,
    sql`select hookline_settle_sent(${JSON.stringify(sent)}::json, ${options.publish},
      ${options.realtimeType}, ${options.outboundType}, ${REALTIME_APPEND_LOCK}, ${REALTIME_CHANNEL},
      ${DELIVERIES_CHANNEL}) as result`,
  );
  const answer = row?.result;
  return {
    settled: new Set(answer?.settled ?? []),
    published: published(answer?.deliveries, answer?.realtimeSeq),
    // The rows as hookline_publish_envelopes takes them, as the inputs outboxRows turns back into them.
    unpublished: {
      realtime: (answer?.realtime ?? []).map((event) => ({
        accountId: event.account_id,
        type: event.type,
        data: event.data,
      })),
      outbound: (answer?.outbound ?? []).map((event) => ({
        type: event.type,
        accountId: event.account_id,
        webhookId: event.webhook_id,
        payload: event.payload,
      })),
    },
  };
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

/** A send {@link storeSends} stored: its account, and the `data` of its `message:new`. */
export interface StoredSend {
  localId: string;
  accountId: string;
  /** sentMessageData's object for the stored message, as Postgres built it. */
  data: Record<string, unknown>;
}

/** How {@link storeSends} publishes. */
export interface StoreOptions {
  /** Publish the `message:new`s in the call, which is then the transaction's last statement. */
  publish: boolean;
  /** The realtime envelope `type` (`message:new`). */
  realtimeType: string;
}

/**
 * Stores a batch of new sends whose chat exists in one call (`hookline_store_sends`): their
 * queue rows, each chat's last message moved to the batch's newest in it, their messages,
 * `pending` under their local ids, and the NOTIFY on {@link SENDS_CHANNEL} that wakes every
 * instance's worker at commit. A send whose chat does not exist is not stored. With `publish`,
 * the `message:new`s are published too (on the pool, the call is its own transaction);
 * without, the caller publishes them last.
 *
 * @returns the sends stored, in batch order, and what was published.
 */
export async function storeSends(
  executor: Executor,
  batch: readonly NewSend[],
  options: StoreOptions,
): Promise<{ stored: StoredSend[]; published: Published }> {
  if (batch.length === 0) return { stored: [], published: { deliveries: 0 } };
  const sends: SendRecord[] = batch.map((send, ord) => ({
    ord,
    local_id: send.localId,
    account_id: send.accountId,
    chat_id: send.chatId,
    text: send.text,
    quote_id: send.quoteId,
    attachments: send.attachments ?? [],
  }));
  const [row] = await queryRows<{
    result: { stored: StoredSend[]; deliveries?: number; realtimeSeq?: number | string | null };
  }>(
    executor,
    sql`select hookline_store_sends(${JSON.stringify(sends)}::json, ${options.publish},
      ${options.realtimeType}, ${REALTIME_APPEND_LOCK}, ${REALTIME_CHANNEL}, ${DELIVERIES_CHANNEL},
      ${SENDS_CHANNEL}) as result`,
  );
  return {
    stored: row?.result.stored ?? [],
    published: published(row?.result.deliveries, row?.result.realtimeSeq),
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
