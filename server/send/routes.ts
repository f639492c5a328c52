import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAccounts } from '../db/account-list.js';
import type { SendAttachmentFile } from '../db/send-attachments.js';
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
import { bearerToken } from '../http/api-auth.js';
import { secretMatcher } from '../http/safe-equal.js';
import { verifyRealtimeToken } from '../realtime/index.js';
import { type AttachmentLimits, attachmentMetadata, readMultipartSend } from './attachments.js';
import type { SendEnqueuer } from './enqueue.js';
import { chatParams, idempotencyKey, retryParams, sendBody, sendRouteSchemas } from './route-schemas.js';
import { publishStatuses } from './settle.js';

/** Who is calling: every account (API token), or some accounts with the token's scopes. */
type Caller = { kind: 'all' } | { kind: 'token'; accountIds: readonly string[] | 'all'; canSend: boolean };

/** What the send routes check and store with. */
export interface SendRoutesOptions {
  apiToken: string;
  realtimeJwtSecret: string;
  /** Null when UNIPILE_DSN / UNIPILE_API_KEY are unset: sending then answers 503. */
  canReachProvider: boolean;
  idempotencyHours: number;
  /** Stores sends (group commit). */
  enqueuer: SendEnqueuer;
  /** What one send may upload (SEND_ATTACHMENT_* settings). */
  attachments: AttachmentLimits;
  /** Tells this instance's worker that a send is queued. */
  wake: () => void;
}

/**
 * `POST /api/chats/:chatId/messages` (send), its retry route and `GET /api/accounts`, for the API
 * token or a connection token (docs/sending.md). Sending needs the `send` scope for the account.
 */
export async function sendRoutes(app: FastifyInstance, options: SendRoutesOptions): Promise<void> {
  const isApiToken = secretMatcher(options.apiToken);
  async function caller(request: FastifyRequest): Promise<Caller> {
    const presented = bearerToken(request);
    if (!presented) {
      throw new HooklineError('HL_ERR_UNAUTHORIZED', 'Missing credentials: Authorization: Bearer <token>');
    }
    if (isApiToken(presented)) return { kind: 'all' };
    const grant = await verifyRealtimeToken(options.realtimeJwtSecret, presented);
    return {
      kind: 'token',
      accountIds: grant.scope.kind === 'all' ? 'all' : grant.scope.accountIds,
      canSend: grant.scopes?.has('send') ?? false,
    };
  }
  // Credentials are checked in onRequest, before the body is read; a failure counts against the
  // client address like every other failed authentication.
  const callers = new WeakMap<FastifyRequest, Caller>();
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      callers.set(request, await caller(request));
    } catch (error) {
      if (!(error instanceof HooklineError)) throw error;
      await app.rejectCredentials(request, reply, error);
    }
  };
  function callerOf(request: FastifyRequest): Caller {
    const who = callers.get(request);
    if (!who) throw new HooklineError('HL_ERR_UNAUTHORIZED', 'Missing credentials');
    return who;
  }
  function requireSend(who: Caller, accountId: string): void {
    if (who.kind === 'all') return;
    const covers = who.accountIds === 'all' || who.accountIds.includes(accountId);
    if (!covers) throw new HooklineError('HL_ERR_NOT_FOUND', 'No such chat for this token');
    if (!who.canSend) {
      throw new HooklineError(
        'HL_ERR_FORBIDDEN',
        'This token may not send: mint it with scopes ["read","send"]',
      );
    }
  }
  // Multipart sends only: fields and files are read in preValidation (after onRequest has checked
  // the credentials), the fields become the body the schema validates, and the files wait here.
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
    { schema: sendRouteSchemas.send, onRequest: authenticate, preValidation: readUpload },
    async (request, reply) => {
      const { chatId } = chatParams.parse(request.params);
      const body = sendBody.parse(request.body);
      const files = uploads.get(request) ?? [];
      const key = idempotencyKey.parse(request.headers['idempotency-key']);
      requireSend(callerOf(request), body.accountId);
      requireProvider();
      if (key) {
        const first = await findSendRequest(app.database.db, body.accountId, key, options.idempotencyHours);
        if (first) return reply.status(202).header('idempotent-replayed', 'true').send(first.response);
      }
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

  app.post(
    '/api/chats/:chatId/messages/:localId/retry',
    { schema: sendRouteSchemas.retry, onRequest: authenticate },
    async (request, reply) => {
      const { chatId, localId } = retryParams.parse(request.params);
      const who = callerOf(request);
      const stored = await findSentMessage(app.database.db, localId);
      if (!stored || stored.chatId !== chatId)
        throw new HooklineError('HL_ERR_NOT_FOUND', `No sent message ${localId}`);
      requireSend(who, stored.accountId);
      requireProvider();
      const result = await transaction(app.database.db, async (tx) => {
        const send = await lockSend(tx, localId);
        if (send?.status !== 'failed') return undefined;
        await updateSend(tx, localId, {
          status: 'queued',
          nextAttemptAt: new Date(),
          attempts: 0,
          lastError: null,
        });
        const message = await setMessageSendStatus(tx, localId, 'pending');
        if (!message) return undefined;
        await notifySendsQueued(tx);
        return { message, published: await publishStatuses(tx, [{ message }]) };
      });
      if (!result) throw new HooklineError('HL_ERR_CONFLICT', 'Only a failed send can be retried');
      app.changes.emit(result.published);
      options.wake();
      return reply.status(202).send(sentMessageData(result.message));
    },
  );

  app.get(
    '/api/accounts',
    { schema: sendRouteSchemas.accounts, onRequest: authenticate },
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
