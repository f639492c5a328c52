import { pipeline, Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../errors.js';
import { callerAccounts, requires } from '../http/credentials.js';
import { UnipileChatActions } from '../providers/unipile/index.js';
import {
  attachmentParamsSchema,
  attachmentQuerySchema,
  attachmentRouteSchema,
} from './attachments-schemas.js';
import { findMessageFiles } from './queries/messages.js';

/**
 * Images a browser may show inline. SVG is not one: it can carry script, so it downloads like any
 * other file.
 */
const INLINE_IMAGES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);

/** A `Content-Disposition` with an ASCII fallback name and the UTF-8 one (RFC 6266). */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string | null): string {
  if (!filename) return kind;
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const field = (value: unknown, key: string) =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** Passes bytes through until `max`, then fails the stream (the response is cut short). */
function byteCap(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) done(new Error(`attachment exceeds ${max} bytes`));
      else done(null, chunk);
    },
  });
}

/**
 * `GET /api/messages/:messageId/attachments/:attachmentId`: one file of a stored message,
 * streamed from the provider, for the accounts the caller may read. Only files the message lists
 * are fetched (the route is no open proxy to the provider), up to ATTACHMENT_DOWNLOAD_MAX_BYTES.
 */
export async function attachmentRoutes(app: FastifyInstance): Promise<void> {
  const config = app.config;
  const actions =
    config.UNIPILE_DSN && config.UNIPILE_API_KEY
      ? new UnipileChatActions({
          dsn: config.UNIPILE_DSN,
          apiKey: config.UNIPILE_API_KEY,
          timeoutMs: config.SEND_TIMEOUT_MS,
        })
      : undefined;
  app.addHook('onClose', async () => actions?.close());
  const maxBytes = config.ATTACHMENT_DOWNLOAD_MAX_BYTES;
  const tooLarge = () =>
    new HooklineError(
      'HL_ERR_PAYLOAD_TOO_LARGE',
      `The file is larger than ${maxBytes} bytes (ATTACHMENT_DOWNLOAD_MAX_BYTES)`,
    );

  app.get(
    '/api/messages/:messageId/attachments/:attachmentId',
    { schema: attachmentRouteSchema, config: requires('api', 'read') },
    async function streamAttachment(request, reply) {
      const { messageId, attachmentId } = attachmentParamsSchema.parse(request.params);
      const { accountId } = attachmentQuerySchema.parse(request.query);
      const matches = await findMessageFiles(app.database.db, messageId, {
        accountId,
        accountIds: callerAccounts(request.caller),
      });
      if (matches.length === 0) throw new HooklineError('HL_ERR_NOT_FOUND', `No message ${messageId}`);
      if (matches.length > 1) {
        throw new HooklineError(
          'HL_ERR_INVALID_REQUEST',
          'This message id exists in several accounts: pass accountId',
          {
            details: { accountIds: matches.map((match) => match.accountId) },
          },
        );
      }
      const files = Array.isArray(matches[0]!.attachments) ? (matches[0]!.attachments as unknown[]) : [];
      const file = files.find((candidate) => field(candidate, 'id') === attachmentId);
      if (!file)
        throw new HooklineError('HL_ERR_NOT_FOUND', `Message ${messageId} has no attachment ${attachmentId}`);
      const knownSize = field(file, 'fileSize');
      if (typeof knownSize === 'number' && knownSize > maxBytes) throw tooLarge();
      if (!actions)
        throw new HooklineError(
          'HL_ERR_UNAVAILABLE',
          'No provider is configured (UNIPILE_DSN, UNIPILE_API_KEY)',
        );

      let download: Awaited<ReturnType<UnipileChatActions['attachment']>>;
      try {
        download = await actions.attachment(messageId, attachmentId);
      } catch (error) {
        throw new HooklineError('HL_ERR_PROVIDER', 'The provider could not be reached for this file', {
          cause: error,
        });
      }
      if (download.status !== 200 || (download.contentLength !== null && download.contentLength > maxBytes)) {
        download.body.on('error', () => {}).destroy();
        if (download.status === 200) throw tooLarge();
        if (download.status === 404)
          throw new HooklineError('HL_ERR_NOT_FOUND', 'The provider no longer has this file');
        throw new HooklineError('HL_ERR_PROVIDER', `The provider answered ${download.status} for this file`, {
          details: { status: download.status },
        });
      }
      const providerType = (download.contentType ?? '').split(';')[0]!.trim().toLowerCase();
      const modelType = String(field(file, 'mimetype') ?? '').toLowerCase();
      const inline = INLINE_IMAGES.has(providerType);
      const filename =
        typeof field(file, 'filename') === 'string' ? (field(file, 'filename') as string) : null;
      reply.headers({
        'content-type': inline
          ? providerType
          : download.contentType || modelType || 'application/octet-stream',
        'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', filename),
        'x-content-type-options': 'nosniff',
        'cache-control': 'private, max-age=300',
        'content-security-policy': "default-src 'none'; sandbox",
        ...(download.contentLength !== null ? { 'content-length': String(download.contentLength) } : {}),
      });
      // pipeline destroys the provider's body too when the cap or the caller ends the stream.
      return reply.send(pipeline(download.body, byteCap(maxBytes), () => {}));
    },
  );
}
