import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeSignal } from '../db/change-signal.js';
import type { Db, Tx } from '../db/database.js';
import type { MessageRecord } from '../db/messages.js';
import { transaction } from '../db/transaction.js';
import { HooklineError } from '../errors.js';
import { type Published, sendAccepted } from '../events/index.js';
import { attachmentMetadata } from './attachments.js';
import type { SendBudgets } from './budgets.js';
import type { SendEnqueuer } from './enqueue.js';
import { replay, type SendIdempotency } from './idempotency.js';
import { listAccounts } from './queries/account-list.js';
import type { SendAttachmentFile } from './queries/send-attachments.js';
import {
  findSentMessage,
  lockSend,
  notifySendsQueued,
  setMessageSendStatus,
  updateSend,
} from './queries/sends.js';
import { chatParams, idempotencyKey, retryParams, sendBody } from './route-schemas.js';
import { publishStatuses } from './settle.js';

/**
 * What the route's credential check granted the caller (server/send/routes.ts): the accounts it
 * may read, whether it may send for one, and the session its sends are budgeted to.
 */
export interface SendGrant {
  /** Throws HL_ERR_NOT_FOUND or HL_ERR_FORBIDDEN unless the caller may send for the account. */
  requireSend(accountId: string): void;
  /** The accounts the caller may read; undefined for every account. */
  accountIds: readonly string[] | undefined;
  /** The caller's session budget (a connection token's); undefined for the API token. */
  sessionKey: string | undefined;
}

/** What the send handlers store, charge and wake with (one per app). */
export interface SendHandlerContext {
  db: Db;
  changes: ChangeSignal;
  enqueuer: SendEnqueuer;
  idempotency: SendIdempotency;
  budgets: SendBudgets;
  /** False when UNIPILE_DSN / UNIPILE_API_KEY are unset: sending then answers 503. */
  canReachProvider: boolean;
  /** The files a multipart send uploaded (read before validation); none for JSON. */
  filesOf(request: FastifyRequest): readonly SendAttachmentFile[];
  /** Tells this instance's worker that a send is queued. */
  wake(): void;
}

/**
 * `POST /api/chats/:chatId/messages`: a replayed `Idempotency-Key` answers its first answer;
 * else the send is charged to its budgets, stored pending by the enqueuer (group commit), and
 * answered 202 once stored. The worker sends it (server/send/worker.ts) and settles it.
 */
export async function sendMessage(
  context: SendHandlerContext,
  grant: SendGrant,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { chatId } = chatParams.parse(request.params);
  const body = sendBody.parse(request.body);
  const key = idempotencyKey.parse(request.headers['idempotency-key']);
  grant.requireSend(body.accountId);
  requireProvider(context);
  const first = key ? await context.idempotency.firstAnswer(body.accountId, key) : undefined;
  if (first) return replay(reply, first);
  await context.budgets.charge(reply, { accountId: body.accountId, sessionKey: grant.sessionKey });
  const files = context.filesOf(request);
  const result = await context.enqueuer.submit({
    localId: `lm_${randomUUID().replaceAll('-', '')}`,
    accountId: body.accountId,
    chatId,
    text: body.text,
    quoteId: body.quoteId ?? null,
    attachments: attachmentMetadata(files),
    files,
    ...(key ? { key } : {}),
  });
  switch (result.kind) {
    case 'queued':
      return reply.status(202).send(result.response);
    case 'failed':
      throw result.error;
    case 'key-taken':
      // A concurrent request took the key first: replay its answer.
      return replay(reply, await context.idempotency.answerOfTakenKey(body.accountId, key as string));
    case 'no-chat':
      throw new HooklineError('HL_ERR_NOT_FOUND', `No chat ${chatId} in account ${body.accountId}`);
  }
}

/**
 * `POST /api/chats/:chatId/messages/:localId/retry`: a `failed` send is queued again, its message
 * pending again (published as `message:updated`), and answered 202 like a new send.
 */
export async function retrySend(
  context: SendHandlerContext,
  grant: SendGrant,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { chatId, localId } = retryParams.parse(request.params);
  const stored = await findSentMessage(context.db, localId);
  if (!stored || stored.chatId !== chatId)
    throw new HooklineError('HL_ERR_NOT_FOUND', `No sent message ${localId}`);
  grant.requireSend(stored.accountId);
  requireProvider(context);
  // A retry that cannot happen (a second click, another tab was first) costs no budget; the
  // check under the send's lock settles a race.
  if (stored.sendStatus !== 'failed') throw notFailed();
  await context.budgets.charge(reply, { accountId: stored.accountId, sessionKey: grant.sessionKey });
  const requeued = await transaction(context.db, (tx) => requeueFailed(tx, localId));
  if (!requeued) throw notFailed();
  context.changes.emit(requeued.published);
  context.wake();
  return reply.status(202).send(sendAccepted(requeued.message));
}

/** `GET /api/accounts`: the accounts the caller may read, with their last status. */
export async function listSendAccounts(context: SendHandlerContext, grant: SendGrant) {
  const rows = await listAccounts(context.db, grant.accountIds ? [...grant.accountIds] : undefined);
  return {
    items: rows.map((row) => ({
      accountId: row.id,
      provider: row.provider,
      accountType: row.accountType,
      status: row.status,
      statusReceivedAt: row.statusReceivedAt ? row.statusReceivedAt.toISOString() : null,
    })),
  };
}

/**
 * Queues a send again if it is still `failed` under its lock: attempts start over, its message
 * is pending again, every instance's worker is woken at commit, and the change is published.
 */
async function requeueFailed(
  tx: Tx,
  localId: string,
): Promise<{ message: MessageRecord; published: Published } | undefined> {
  const send = await lockSend(tx, localId);
  if (send?.status !== 'failed') return undefined;
  await updateSend(tx, localId, {
    status: 'queued',
    nextAttemptAt: new Date(),
    attempts: 0,
    unconfirmedResends: 0,
    lastError: null,
  });
  const message = await setMessageSendStatus(tx, localId, 'pending');
  if (!message) return undefined;
  await notifySendsQueued(tx);
  return { message, published: await publishStatuses(tx, [{ message }]) };
}

function requireProvider(context: SendHandlerContext): void {
  if (!context.canReachProvider) {
    throw new HooklineError('HL_ERR_UNAVAILABLE', 'Sending needs UNIPILE_DSN and UNIPILE_API_KEY');
  }
}

const notFailed = () => new HooklineError('HL_ERR_CONFLICT', 'Only a failed send can be retried');
