import type { FastifyInstance } from 'fastify';
import { BODY_LIMIT_BYTES } from '../app-limits.js';
import { HooklineError } from '../errors.js';
import { secretMatcher } from '../http/safe-equal.js';
import { ingestRouteSchema } from './route-schemas.js';
import { IngestService, type IngestServiceOptions } from './service.js';

/** The webhook route's options: the provider, its inbound secret, and the pipeline's limits. */
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
    | 'webhook'
    | 'onChatWithoutDetails'
  > {
  /** The value the provider must send in `webhook.authHeader`. */
  inboundSecret: string;
}

/**
 * The provider's webhook route (`POST` at `webhook.path`, docs/ingest.md). Authentication happens
 * before the body is read, and the body is taken as text whatever its content type: webhooks
 * created through a provider's API may send no JSON content type, and the raw text is what gets
 * stored.
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

  const { webhook } = options;
  const authHeader = webhook.authHeader.toLowerCase();
  app.post(
    webhook.path,
    {
      schema: ingestRouteSchema,
      bodyLimit: BODY_LIMIT_BYTES,
      onRequest: async (request, reply) => {
        const presented = request.headers[authHeader];
        if (typeof presented !== 'string' || !isInboundSecret(presented)) {
          await app.rejectCredentials(
            request,
            reply,
            new HooklineError('HL_ERR_UNAUTHORIZED', `Missing or invalid ${webhook.authHeader} header`),
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
