import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HooklineError } from '../errors.js';
import { closeIfBodyPending } from '../http/auth-failures.js';
import { requires } from '../http/credentials.js';
import { type AttachmentLimits, readMultipartSend } from './attachments.js';
import { type SendBudgetLimits, SendBudgets } from './budgets.js';
import type { SendEnqueuer } from './enqueue.js';
import {
  listSendAccounts,
  retrySend,
  type SendGrant,
  type SendHandlerContext,
  sendMessage,
} from './handlers.js';
import type { SendIdempotency } from './idempotency.js';
import type { SendAttachmentFile } from './queries/send-attachments.js';
import { accountsWithChat } from './queries/send-budgets.js';
import { chatParams, sendRouteSchemas } from './route-schemas.js';
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
  /** Replays answered `Idempotency-Key`s. */
  idempotency: SendIdempotency;
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
  // The credential check of a handler: what the caller (decided by the credentials plugin) may do.
  function grantOf(request: FastifyRequest): SendGrant {
    const who = callerOf(request);
    return {
      requireSend: (accountId) => requireSend(who, accountId),
      accountIds: who.kind === 'all' || who.accountIds === 'all' ? undefined : who.accountIds,
      sessionKey: who.kind === 'token' ? who.budgetKey : undefined,
    };
  }
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

  const context: SendHandlerContext = {
    db: app.database.db,
    changes: app.changes,
    enqueuer: options.enqueuer,
    idempotency: options.idempotency,
    budgets: new SendBudgets(app.database.db, options.budgets),
    canReachProvider: options.canReachProvider,
    filesOf: (request) => uploads.get(request) ?? [],
    wake: options.wake,
  };
  app.post(
    '/api/chats/:chatId/messages',
    {
      schema: sendRouteSchemas.send,
      config: requires('api', 'send'),
      onRequest: authorizeSend,
      preValidation: readUpload,
    },
    (request, reply) => sendMessage(context, grantOf(request), request, reply),
  );
  app.post(
    '/api/chats/:chatId/messages/:localId/retry',
    { schema: sendRouteSchemas.retry, config: requires('api', 'read') },
    (request, reply) => retrySend(context, grantOf(request), request, reply),
  );
  app.get(
    '/api/accounts',
    { schema: sendRouteSchemas.accounts, config: requires('api', 'read') },
    (request) => listSendAccounts(context, grantOf(request)),
  );
}
