import { sql } from 'drizzle-orm';
import type { FastifyReply } from 'fastify';
import type { Db, Executor, Tx } from '../db/database.js';
import { queryRows } from '../db/rows.js';
import { HooklineError } from '../errors.js';
import type { SendAccepted } from '../events/index.js';

/**
 * Send idempotency, all of it (docs/sending.md, "Idempotency"): a send with an `Idempotency-Key`
 * that was already answered within SEND_IDEMPOTENCY_HOURS is answered again with the first
 * answer, and stores nothing. The route asks {@link SendIdempotency.firstAnswer} before storing;
 * the enqueuer takes the keys in the batch's transaction ({@link SendIdempotency.takeKeys}) and
 * records the answers with the sends ({@link SendIdempotency.recordAnswers}); a request whose key
 * a concurrent one took replays that one's answer ({@link SendIdempotency.answerOfTakenKey}).
 */
export class SendIdempotency {
  readonly #db: Db;
  readonly #ttlHours: number;

  /** @param ttlHours SEND_IDEMPOTENCY_HOURS: how long a key replays its first answer. */
  constructor(db: Db, ttlHours: number) {
    this.#db = db;
    this.#ttlHours = ttlHours;
  }

  /** The first answer given under `key` for the account within the TTL, if any. */
  async firstAnswer(accountId: string, key: string): Promise<SendAccepted | undefined> {
    return (await findSendRequest(this.#db, accountId, key, this.#ttlHours))?.response;
  }

  /**
   * The answer of the request that took `key` while this one was queued (the enqueuer's
   * `key-taken`): that request has committed, so its answer is stored. Conflict if it is gone.
   */
  async answerOfTakenKey(accountId: string, key: string): Promise<SendAccepted> {
    const first = await this.firstAnswer(accountId, key);
    if (!first) throw new HooklineError('HL_ERR_CONFLICT', 'Idempotency-Key in use; retry');
    return first;
  }

  /**
   * Takes the keys of a batch's keyed requests, first in its transaction, so that a request whose
   * key is taken stores nothing. A request for no chat takes no key (it is answered 404), and a
   * key asked for twice in one batch goes to the first request (the other replays it).
   */
  async takeKeys(tx: Tx, requests: readonly KeyedRequest[]): Promise<KeyClaims> {
    const keyed = requests.filter((request) => request.key);
    if (keyed.length === 0) return { taken: new Set(), chats: new Set() };
    const chats = await existingChats(tx, keyed);
    const first = new Map<string, KeyedRequest>();
    for (const request of keyed) {
      const id = pairKey(request.accountId, request.key as string);
      if (chats.has(pairKey(request.accountId, request.chatId)) && !first.has(id)) first.set(id, request);
    }
    const taken = await takeSendKeys(
      tx,
      [...first.values()].map((request) => ({
        accountId: request.accountId,
        key: request.key as string,
        localId: request.localId,
      })),
      this.#ttlHours,
    );
    return { taken, chats };
  }

  /** Records the answers of the sends whose key was taken, for replays, in the batch's transaction. */
  async recordAnswers(
    tx: Tx,
    claims: KeyClaims,
    answers: readonly { localId: string; answer: SendAccepted }[],
  ): Promise<void> {
    await setSendKeyResponses(
      tx,
      answers
        .filter(({ localId }) => claims.taken.has(localId))
        .map(({ localId, answer }) => ({ localId, response: answer })),
    );
  }
}

/** A request as idempotency sees it: the key it came with, if any, and where it goes. */
export interface KeyedRequest {
  localId: string;
  accountId: string;
  chatId: string;
  key?: string;
}

/** What {@link SendIdempotency.takeKeys} found: the keys taken, and the chats of keyed requests. */
export interface KeyClaims {
  /** Local ids of the requests that took their key. */
  taken: ReadonlySet<string>;
  /** Chats of keyed requests that exist, as {@link pairKey}s. */
  chats: ReadonlySet<string>;
}

/** Whether a request may be stored: it has no key, or took it. */
export function mayStore(claims: KeyClaims, request: KeyedRequest): boolean {
  return !request.key || claims.taken.has(request.localId);
}

/** Whether a request that was not stored lost its key (its chat exists), rather than having no chat. */
export function lostKey(claims: KeyClaims, request: KeyedRequest): boolean {
  return Boolean(request.key) && claims.chats.has(pairKey(request.accountId, request.chatId));
}

/** Answers a replayed key: 202 with the first answer, marked `idempotent-replayed`. */
export function replay(reply: FastifyReply, answer: SendAccepted): FastifyReply {
  return reply.status(202).header('idempotent-replayed', 'true').send(answer);
}

const pairKey = (accountId: string, id: string) => `${accountId}\n${id}`;

/** The first answer given under an `Idempotency-Key` within `ttlHours`, if any. */
async function findSendRequest(
  executor: Executor,
  accountId: string,
  key: string,
  ttlHours: number,
): Promise<{ localId: string; response: SendAccepted } | undefined> {
  const [row] = await queryRows<{ localId: string; response: SendAccepted }>(
    executor,
    sql`select local_id as "localId", response from send_requests
      where account_id = ${accountId} and key = ${key}
        and created_at > now() - ${ttlHours}::int * interval '1 hour'`,
  );
  return row;
}

/**
 * Takes `Idempotency-Key`s, each for its local id (the answer is written by
 * {@link setSendKeyResponses} once known). An expired key is taken over; a live one, or one a
 * concurrent transaction holds (waited for), is not.
 *
 * @returns the local ids whose key was taken here.
 */
async function takeSendKeys(
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
async function setSendKeyResponses(
  tx: Tx,
  rows: readonly { localId: string; response: SendAccepted }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`update send_requests r set response = v.response
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v("localId" text, response jsonb)
    where r.local_id = v."localId"`);
}

/** The chats of these (account, chat) pairs that exist, as `accountId\nchatId` keys. */
async function existingChats(
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
