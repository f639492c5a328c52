import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { transaction } from '../db/transaction.js';
import { HooklineError } from '../errors.js';
import { requires } from '../http/credentials.js';
import { assertEndpointUrlAllowed } from './address-guard.js';
import {
  createEndpointBody,
  endpointIdParams,
  endpointPageResponse,
  endpointView,
  endpointWithSecretResponse,
  listEndpointsQuery,
  updateEndpointBody,
} from './api-schemas.js';
import { resolveSignatureSettings } from './endpoint-settings.js';
import { type HeaderMap, headerHost, MASKED_HEADER_VALUE, sealIncomingHeaders } from './header-box.js';
import {
  deleteEndpoint,
  findEndpoint,
  insertEndpointWithinCap,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
} from './queries/endpoints.js';
import { outboundRouteSchemas } from './route-schemas.js';
import { encryptSecret } from './secret-box.js';
import type { OutboundService } from './service.js';
import { generateEndpointSecret } from './signing.js';

/** `ep_` + creation time in base36 (so ids sort by age, which the cursor relies on) + randomness. */
function newEndpointId(): string {
  return `ep_${Date.now().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}

/** The `HL_ERR_NOT_FOUND` error of an unknown endpoint id. */
export function endpointNotFound(id: string): HooklineError {
  return new HooklineError('HL_ERR_NOT_FOUND', `No endpoint ${id}`, { details: { id } });
}

/**
 * A PATCH that moves an endpoint to another host must give its custom headers again (new values,
 * or `{}` to clear them): stored values were given for the old host, and are never sent to
 * another (docs/security.md). Otherwise `400 HL_ERR_HEADERS_REQUIRED`.
 */
function requireHeadersForNewHost(
  stored: HeaderMap,
  oldHost: string,
  newHost: string,
  incoming: HeaderMap | undefined,
): void {
  if (oldHost === newHost || Object.keys(stored).length === 0) return;
  const kept =
    incoming === undefined
      ? Object.keys(stored)
      : Object.entries(incoming)
          .filter(([, value]) => value === MASKED_HEADER_VALUE)
          .map(([name]) => name);
  if (kept.length === 0) return;
  throw new HooklineError(
    'HL_ERR_HEADERS_REQUIRED',
    `The URL moves to ${newHost}: give the custom headers again for it (or "headers": {} to clear them)`,
    { details: { headers: kept } },
  );
}

/** Endpoint CRUD and secret rotation under `/api/endpoints`. */
export async function endpointRoutes(app: FastifyInstance, service: OutboundService): Promise<void> {
  const db = () => app.database.db;

  app.post(
    '/api/endpoints',
    { schema: outboundRouteSchemas.createEndpoint, config: requires('api') },
    async function createEndpointRoute(request, reply) {
      const body = createEndpointBody.parse(request.body);
      await assertEndpointUrlAllowed(new URL(body.url), service.allowPrivateEndpoints);
      const signature = resolveSignatureSettings(body);
      const secret = generateEndpointSecret();
      const row = await transaction(db(), (tx) =>
        insertEndpointWithinCap(
          tx,
          {
            id: newEndpointId(),
            url: body.url,
            description: body.description ?? null,
            eventTypes: body.eventTypes ?? null,
            accountIds: body.accountIds ?? null,
            headers: sealIncomingHeaders(body.headers ?? {}, {}, service.encryptionKey, headerHost(body.url)),
            maxAttempts: body.maxAttempts ?? service.defaultMaxAttempts,
            rateLimitPerSecond: body.rateLimitPerSecond ?? null,
            enabled: body.enabled ?? true,
            ...signature,
            retrySchedule: body.retrySchedule ?? null,
            secretEncrypted: encryptSecret(secret, service.encryptionKey),
          },
          service.maxEndpoints,
        ),
      );
      if (!row) {
        throw new HooklineError(
          'HL_ERR_LIMIT_REACHED',
          `At most ${service.maxEndpoints} endpoints may exist`,
          {
            details: { limit: service.maxEndpoints },
          },
        );
      }
      return reply.status(201).send(endpointWithSecretResponse.parse({ ...endpointView(row), secret }));
    },
  );

  app.get(
    '/api/endpoints',
    { schema: outboundRouteSchemas.listEndpoints, config: requires('api') },
    async function listEndpointsRoute(request) {
      const query = listEndpointsQuery.parse(request.query);
      const rows = await listEndpoints(db(), {
        ...(query.cursor ? { after: query.cursor } : {}),
        limit: query.limit + 1,
      });
      const page = rows.slice(0, query.limit);
      return endpointPageResponse.parse({
        data: page.map(endpointView),
        nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      });
    },
  );

  app.get(
    '/api/endpoints/:id',
    { schema: outboundRouteSchemas.getEndpoint, config: requires('api') },
    async function getEndpointRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const row = await findEndpoint(db(), id);
      if (!row) throw endpointNotFound(id);
      return endpointView(row);
    },
  );

  app.patch(
    '/api/endpoints/:id',
    { schema: outboundRouteSchemas.updateEndpoint, config: requires('api') },
    async function updateEndpointRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const body = updateEndpointBody.parse(request.body);
      if (body.url) await assertEndpointUrlAllowed(new URL(body.url), service.allowPrivateEndpoints);
      const signs = body.signatureScheme ?? body.signatureHeader ?? body.headers ?? body.url;
      const existing = signs === undefined ? undefined : await findEndpoint(db(), id);
      if (signs !== undefined && !existing) throw endpointNotFound(id);
      const host = headerHost(body.url ?? existing?.url ?? 'http://unknown');
      if (existing)
        requireHeadersForNewHost(existing.headers as HeaderMap, headerHost(existing.url), host, body.headers);
      const headers =
        body.headers && existing
          ? sealIncomingHeaders(body.headers, existing.headers as HeaderMap, service.encryptionKey, host)
          : undefined;
      const patch = existing
        ? { ...body, ...resolveSignatureSettings(body, existing), ...(headers ? { headers } : {}) }
        : body;
      const row = await updateEndpoint(db(), id, patch);
      if (!row) throw endpointNotFound(id);
      if (row.enabled) service.wake();
      return endpointView(row);
    },
  );

  app.delete(
    '/api/endpoints/:id',
    { schema: outboundRouteSchemas.deleteEndpoint, config: requires('api') },
    async function deleteEndpointRoute(request, reply) {
      const { id } = endpointIdParams.parse(request.params);
      if (!(await deleteEndpoint(db(), id))) throw endpointNotFound(id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/endpoints/:id/rotate-secret',
    { schema: outboundRouteSchemas.rotateSecret, config: requires('api') },
    async function rotateSecretRoute(request) {
      const { id } = endpointIdParams.parse(request.params);
      const secret = generateEndpointSecret();
      const row = await rotateEndpointSecret(
        db(),
        id,
        encryptSecret(secret, service.encryptionKey),
        new Date(Date.now() + service.secretOverlapMs),
      );
      if (!row) throw endpointNotFound(id);
      return endpointWithSecretResponse.parse({ ...endpointView(row), secret });
    },
  );
}
