import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAccounts } from '../db/account-list.js';
import type { SendAttachmentFile } from '../db/send-attachments.js';
import { accountsWithChat } from '../db/send-budgets.js';
import {
  findSendRequest,
  findSentMessage,
  lockSend,
  notifySendsQueued,
  setMessageSendStatus,
  updateSend,
} from '../db/sends.js';
import { transaction } from '../db/transaction.js';
import { HooklineError } from '../errors.js';
import { sentMessageData } from '../events/index.js';
import { closeIfBodyPending } from '../http/auth-failures.js';
import { requires } from '../http/credentials.js';
import { type AttachmentLimits, attachmentMetadata, readMultipartSend } from './attachments.js';
import { type SendBudgetLimits, SendBudgets } from './budgets.js';
import type { SendEnqueuer } from './enqueue.js';
import { chatParams, idempotencyKey, retryParams, sendBody, sendRouteSchemas } from './route-schemas.js';
import { publishStatuses } from './settle.js';
import { UploadGate } from './upload-gate.js';

/**
 * Who is calling: every account (API token), or some accounts with the token's scopes; a token's
 * send budget is its session's (`budgetKey`).
 */
type Caller =
  | { kind: 'all' }
  | { kind: 'token'; accountIds: readonly string[] | 'all'; canSend: boolean; budgetKey: string };

/** What the send routes check and store with. */
export interface SendRoutesOptions {
  /** Null when UNIPILE_DSN / UNIPILE_API_KEY are unset: sending then answers 503. */
  canReachProvider: boolean;
  idempotencyHours: number;
  /** Stores sends (group commit). */
  enqueuer: SendEnqueuer;
  /** What one send may upload (SEND_ATTACHMENT_* settings). */
  attachments: AttachmentLimits;
  /** Tells this instance's worker that a send is queued. */
  wake: () => void;
  /** Send budgets and the per-account queue cap. */
  budgets: SendBudgetLimits;
  /** SEND_MAX_UPLOADS_IN_FLIGHT. */
  maxUploadsInFlight: number;
}

/**
 * `POST /api/chats/:chatId/messages` (send), its retry route and `GET /api/accounts`, for the API
 * token or a connection token (docs/sending.md). Sending needs the `send` scope for the account.
 */
export async function sendRoutes(app: FastifyInstance, options: SendRoutesOptions): Promise<void> {
  // The credentials plugin decided the caller before the body was read (the routes declare what
  // they accept); a failure counted against the client address like every other.
  function callerOf(request: FastifyRequest): Caller {
    const who = request.caller;
    if (who?.kind === 'api') return { kind: 'all' };
    if (who?.kind !== 'token') throw new HooklineError('HL_ERR_UNAUTHORIZED', 'Missing credentials');
    const { grant } = who;
    return {
      kind: 'token',
      accountIds: grant.scope.kind === 'all' ? 'all' : grant.scope.accountIds,
      canSend: grant.scopes?.has('send') ?? false,
      budgetKey: grant.session?.id ?? grant.tokenId,
    };
  }
  const mayNotSend = () =>
    new HooklineError('HL_ERR_FORBIDDEN', 'This token may not send: mint it with scopes ["read","send"]');
  const noChat = () => new HooklineError('HL_ERR_NOT_FOUND', 'No such chat for this token');
  function requireSend(who: Caller, accountId: string): void {
    if (who.kind === 'all') return;
    const covers = who.accountIds === 'all' || who.accountIds.includes(accountId);
    if (!covers) throw noChat();
    if (!who.canSend) throw mayNotSend();
  }
  // A send is authorised before a byte of its body is read: the token's `send` scope (the
  // credentials plugin), and that one of its accounts has the chat (the body's account is checked
  // again once read). Then a multipart send takes an upload slot. A refusal closes the connection
  // instead of reading on.
  const uploadGate = new UploadGate(options.maxUploadsInFlight, app.metrics);
  const authorizeSend = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const who = callerOf(request);
    try {
      if (who.kind === 'token') {
        const { chatId } = chatParams.parse(request.params);
        const scope = who.accountIds === 'all' ? undefined : who.accountIds;
        if ((await accountsWithChat(app.database.db, chatId, scope)).length === 0) throw noChat();
      }
      uploadGate.admit(request, reply);
    } catch (error) {
      closeIfBodyPending(request, reply);
      throw error;
    }
  };
  const budgets = new SendBudgets(app.database.db, options.budgets);
  const chargeBudgets = (reply: FastifyReply, who: Caller, accountId: string) =>
    budgets.charge(reply, {
      accountId,
      sessionKey: who.kind === 'token' ? who.budgetKey : undefined,
    });
  // Multipart sends only: fields and files are read in preValidation (after onRequest has checked
  // the credentials, the scope and the chat), the fields become the body the schema validates,
  // and the files wait here.
  await app.register(multipart);
  const uploads = new WeakMap<FastifyRequest, SendAttachmentFile[]>();
  const readUpload = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.isMultipart()) return;
    try {
      const { fields, files } = await readMultipartSend(request, options.attachments);
      request.body = fields;
      uploads.set(request, files);
    } catch (error) {
      // The rest of a refused upload is not worth reading just to keep the connection alive.
      if (!request.raw.complete) reply.header('connection', 'close');
      throw error;
    }
  };

  function requireProvider(): void {
    if (!options.canReachProvider) {
      throw new HooklineError('HL_ERR_UNAVAILABLE', 'Sending needs UNIPILE_DSN and UNIPILE_API_KEY');
    }
  }

  app.post(
    '/api/chats/:chatId/messages',
    {
      schema: sendRouteSchemas.send,
      config: requires('api', 'send'),
      onRequest: authorizeSend,
      preValidation: readUpload,
    },
    async (request, reply) => {
      const { chatId } = chatParams.parse(request.params);
      const body = sendBody.parse(request.body);
      const files = uploads.get(request) ?? [];
      const key = idempotencyKey.parse(request.headers['idempotency-key']);
      const who = callerOf(request);
      requireSend(who, body.accountId);
      requireProvider();
      if (key) {
        const first = await findSendRequest(app.database.db, body.accountId, key, options.idempotencyHours);
        if (first) return reply.status(202).header('idempotent-replayed', 'true').send(first.response);
      }
      await chargeBudgets(reply, who, body.accountId);
      const localId = `lm_${randomUUID().replaceAll('-', '')}`;
      const result = await options.enqueuer.submit({
        localId,
        accountId: body.accountId,
        chatId,
        text: body.text,
        quoteId: body.quoteId ?? null,
        attachments: attachmentMetadata(files),
        files,
        ...(key ? { key } : {}),
      });
      if (result.kind === 'queued') return reply.status(202).send(result.response);
      if (result.kind === 'failed') throw result.error;
      if (result.kind === 'no-chat' || !key)
        throw new HooklineError('HL_ERR_NOT_FOUND', `No chat ${chatId} in account ${body.accountId}`);
      // A concurrent request took the key first: replay its answer.
      const first = await findSendRequest(app.database.db, body.accountId, key, options.idempotencyHours);
      if (!first) throw new HooklineError('HL_ERR_CONFLICT', 'Idempotency-Key in use; retry');
      return reply.status(202).header('idempotent-replayed', 'true').send(first.response);
    },
  );

  const notFailed = () => new HooklineError('HL_ERR_CONFLICT', 'Only a failed send can be retried');
  app.post(
    '/api/chats/:chatId/messages/:localId/retry',
    { schema: sendRouteSchemas.retry, config: requires('api', 'read') },
    async (request, reply) => {
      const { chatId, localId } = retryParams.parse(request.params);
      const who = callerOf(request);
      const stored = await findSentMessage(app.database.db, localId);
      if (!stored || stored.chatId !== chatId)
        throw new HooklineError('HL_ERR_NOT_FOUND', `No sent message ${localId}`);
      requireSend(who, stored.accountId);
      requireProvider();
      // A retry that cannot happen (a second click, another tab was first) costs no budget; the
      // check under the send's lock below settles a race.
      if (stored.sendStatus !== 'failed') throw notFailed();
      await chargeBudgets(reply, who, stored.accountId);
      const result = await transaction(app.database.db, async (tx) => {
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
      });
      if (!result) throw notFailed();
      app.changes.emit(result.published);
      options.wake();
      return reply.status(202).send(sentMessageData(result.message));
    },
  );

  app.get(
    '/api/accounts',
    { schema: sendRouteSchemas.accounts, config: requires('api', 'read') },
    async (request) => {
      const who = callerOf(request);
      const accountIds = who.kind === 'all' || who.accountIds === 'all' ? undefined : [...who.accountIds];
      const rows = await listAccounts(app.database.db, accountIds);
      return {
        items: rows.map((row) => ({
          accountId: row.id,
          provider: row.provider,
          accountType: row.accountType,
          status: row.status,
          statusReceivedAt: row.statusReceivedAt ? row.statusReceivedAt.toISOString() : null,
        })),
      };
    },
  );
}
