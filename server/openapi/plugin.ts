import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { requires } from '../http/credentials.js';
import { PAGE_HEADERS } from '../shared/security-headers.js';

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = '/openapi.json';

/** The API document's version: raised when a route, field or answer changes. */
export const API_VERSION = '0.1.0';

/** Where the browsable API reference (Swagger UI, served from its npm package) lives. */
export const API_DOCS_PREFIX = '/docs';

/**
 * Answers whose schema has no description are called "Default Response" by @fastify/swagger;
 * the HTTP reason phrase ("Created", "Not Found") says more.
 */
function withStatusDescriptions<T extends { paths?: object }>(document: T): T {
  for (const operations of Object.values(document.paths ?? {}) as Record<string, unknown>[]) {
    for (const operation of Object.values(operations) as {
      responses?: Record<string, { description?: string }>;
    }[]) {
      for (const [status, answer] of Object.entries(operation.responses ?? {})) {
        if (answer.description === 'Default Response') answer.description = STATUS_CODES[status] ?? status;
      }
    }
  }
  return document;
}

/** What the OpenAPI document must know beyond the route schemas. */
export interface OpenapiPluginOptions {
  /** The header the provider's webhook sends INBOUND_SECRET in (ProviderWebhook.authHeader). */
  webhookAuthHeader: string;
}

/**
 * The API description: every route declares a zod `schema` (params, query, body, answers), and
 * @fastify/swagger with fastify-type-provider-zod's transform turns them into OpenAPI 3.1 at
 * `GET /openapi.json`, browsable at `/docs`.
 *
 * Handlers parse their input with those same zod schemas themselves, so fastify's own validation
 * and serialisation are switched off here: the credentials hook (server/http/credentials.ts) must judge a request
 * before its input is, and every input error keeps one shape and code (HL_ERR_INVALID_REQUEST).
 * Registered before any route, so that the compilers apply to all of them.
 */
export const openapiPlugin = fp<OpenapiPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.setValidatorCompiler(() => () => true);
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Hookline',
          version: API_VERSION,
          description:
            'Realtime ingest gateway: provider webhooks in, WebSocket envelopes and signed webhooks out. ' +
            'Errors share one shape; match on `error.code`.',
        },
        components: {
          securitySchemes: {
            apiToken: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' },
            connectionToken: {
              type: 'http',
              scheme: 'bearer',
              description: 'a connection token from POST /api/realtime/tokens (read routes only)',
            },
            connectionTokenQuery: {
              type: 'apiKey',
              in: 'query',
              name: 'token',
              description: 'a connection token, on the WebSocket upgrade (a browser cannot set its headers)',
            },
            providerWebhookAuth: {
              type: 'apiKey',
              in: 'header',
              name: options.webhookAuthHeader,
              description: 'INBOUND_SECRET',
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (document) =>
        withStatusDescriptions('openapiObject' in document ? document.openapiObject : document.swaggerObject),
    });
    // The reference is open to anyone, like the document it shows; its routes are the plugin's,
    // so they are declared as they are registered.
    await app.register(async (docs) => {
      docs.addHook('onRoute', (route) => {
        route.config = { ...route.config, ...requires('none') };
      });
      await docs.register(swaggerUi, {
        routePrefix: API_DOCS_PREFIX,
        // The plugin's CSP (its inline scripts and styles by hash), made stricter: never framed, no
        // third-party validator, no remote fonts or styles, and no upgrade-insecure-requests, which
        // would break the page on a plain-http gateway.
        staticCSP: true,
        transformStaticCSP: (header: string) =>
          header
            .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
            .replaceAll(' validator.swagger.io', '')
            .replaceAll(' https:', '')
            .replace(/\s*upgrade-insecure-requests;?/, ''),
        // One document at one address: the page reads /openapi.json (Swagger UI's `urls` replaces
        // the `./json` the plugin would point it at), and the plugin's own copy redirects there.
        uiConfig: { urls: [{ url: OPENAPI_PATH, name: 'Hookline' }] },
        uiHooks: {
          onRequest: async (request, reply) => {
            reply.headers(PAGE_HEADERS);
            if (request.routeOptions.url === `${API_DOCS_PREFIX}/json`)
              return reply.redirect(OPENAPI_PATH, 301);
          },
        },
      });
    });

    app.get(
      OPENAPI_PATH,
      { schema: { hide: true }, config: requires('none') },
      async function serveDocument() {
        return app.swagger();
      },
    );
  },
  { name: 'hookline-openapi' },
);
