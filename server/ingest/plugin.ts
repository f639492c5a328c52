import type { FastifyInstance } from 'fastify';
import { BODY_LIMIT_BYTES } from '../app-limits.js';
import { requires } from '../http/credentials.js';
import { ingestRouteSchema } from './route-schemas.js';
import { IngestService, type IngestServiceOptions } from './service.js';

/** The webhook route's options: the provider and the pipeline's limits. */
export type IngestPluginOptions = Pick<
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
>;

/**
 * The provider's webhook route (`POST` at `webhook.path`, docs/ingest.md). It requires the
 * provider's secret in `webhook.authHeader`, checked by the credentials plugin before the body is
 * read (server/http/credentials.ts), and the body is taken as text whatever its content type: webhooks
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

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    options.webhook.path,
    {
      schema: ingestRouteSchema,
      bodyLimit: BODY_LIMIT_BYTES,
      config: requires('webhook'),
      onRequest: async function acceptAnyContentType(request) {
        // The body is read as text whatever the type, but fastify answers 415 to a malformed
        // Content-Type (`json`, empty) before any parser runs: the provider would retry it five
        // times and give up. Without the header the catch-all parser takes the body.
        delete request.raw.headers['content-type'];
      },
    },
    async function ingestWebhook(request) {
      const body = typeof request.body === 'string' ? request.body : '';
      return { ok: true, ...(await service.ingest(body)) };
    },
  );
}
