import type { FastifyInstance } from 'fastify';
import { BODY_LIMIT_BYTES } from '../app-limits.js';
import { HooklineError } from '../errors.js';
import { secretMatcher } from '../http/safe-equal.js';
import { ingestRouteSchema } from './route-schemas.js';
import { IngestService, type IngestServiceOptions } from './service.js';

/** The provider's webhook target (docs/ingest.md). */
export const UNIPILE_WEBHOOK_PATH = '/api/webhooks/unipile/messages';

export interface IngestPluginOptions
  extends Pick<
    IngestServiceOptions,
    | 'maxBatchSize'
    | 'concurrency'
    | 'maxQueued'
    | 'overlapMinBatch'
    | 'overlapMaxWaitMs'
    | 'statusDedupeSeconds'
    | 'echoMatchSeconds'
    | 'onAccountStatus'
    | 'onChatWithoutDetails'
  > {
  /** The value the provider must send in `Unipile-Auth`. */
  inboundSecret: string;
}

/**
 * `POST /api/webhooks/unipile/messages`. Authentication happens before the body is read, and the
 * body is taken as text whatever its content type: webhooks created through Unipile's API send no
 * JSON content type unless told to, and the raw text is what gets stored.
 */
export async function ingestPlugin(app: FastifyInstance, options: IngestPluginOptions): Promise<void> {
  const service = new IngestService({
    database: app.database,
    changes: app.changes,
    logger: app.log,
    metrics: app.metrics,
    ...options,
  });
  app.addHook('preClose', () => service.drain());

  const isInboundSecret = secretMatcher(options.inboundSecret);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    UNIPILE_WEBHOOK_PATH,
    {
      schema: ingestRouteSchema,
      bodyLimit: BODY_LIMIT_BYTES,
      onRequest: async (request, reply) => {
        const presented = request.headers['unipile-auth'];
        if (typeof presented !== 'string' || !isInboundSecret(presented)) {
          await app.rejectCredentials(
            request,
            reply,
            new HooklineError('HL_ERR_UNAUTHORIZED', 'Missing or invalid Unipile-Auth header'),
          );
        }
        // The body is read as text whatever the type, but fastify answers 415 to a malformed
        // Content-Type (`json`, empty) before any parser runs: the provider would retry it five
        // times and give up. Without the header the catch-all parser takes the body.
        delete request.raw.headers['content-type'];
      },
    },
    async (request) => {
      const body = typeof request.body === 'string' ? request.body : '';
      return { ok: true, ...(await service.ingest(body)) };
    },
  );
}
