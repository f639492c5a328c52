import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_DOCS_PREFIX, OPENAPI_PATH, openapiPlugin } from '../../../server/openapi/plugin.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';

interface Operation {
  summary?: string;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/**
 * Routes the document cannot describe: @fastify/swagger lists a route without a `schema` too, with
 * no summary and a made-up 200 without content.
 */
function undocumented(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => !operation.summary)
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

describe.each(testDatabaseKinds().slice(0, 1))('the OpenAPI document (%s)', (kind) => {
  const t = useTestApp(kind);
  const document = async () => (await t.app.inject({ method: 'GET', url: OPENAPI_PATH })).json() as Document;

  it('is OpenAPI 3.1 and describes every route with a summary and its answers', async () => {
    const served = await document();
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/api/webhooks/unipile/messages',
        '/ws/messages',
        '/api/realtime/tokens',
        '/api/chats',
        '/api/chats/{chatId}/messages',
        '/api/endpoints',
        '/api/endpoints/{id}',
        '/api/deliveries/{id}/retry',
        '/api/event-types',
      ]),
    );
    expect(undocumented(served)).toEqual([]);
  });

  it('describes the webhook with a permissive body and its answers', async () => {
    const webhook = (await document()).paths['/api/webhooks/unipile/messages']!.post!;
    const body = Object.values(webhook.requestBody!.content)[0]!.schema;
    expect(body.type).toBeUndefined();
    expect(Object.keys(webhook.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '413', '503']),
    );
  });

  it('describes the WebSocket route as its upgrade', async () => {
    const socket = (await document()).paths['/ws/messages']!.get!;
    expect(Object.keys(socket.responses)).toEqual(expect.arrayContaining(['101', '401']));
    expect(JSON.stringify(socket)).toContain('token');
  });

  it('takes input schemas from the zod schemas the handlers parse with', async () => {
    const create = (await document()).paths['/api/endpoints']!.post!;
    const body = create.requestBody!.content['application/json']!.schema as {
      required?: string[];
      properties: Record<string, unknown>;
    };
    expect(body.required).toEqual(['url']);
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['url', 'eventTypes', 'maxAttempts']),
    );
  });

  it('describes the send route as JSON or multipart/form-data, with its 413', async () => {
    const sendRoute = (await document()).paths['/api/chats/{chatId}/messages']!.post!;
    expect(Object.keys(sendRoute.requestBody!.content)).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(sendRoute.responses)).toEqual(expect.arrayContaining(['202', '413']));
  });

  it('serves the API reference page and its assets itself, from no CDN', async () => {
    const page = await t.app.inject({ method: 'GET', url: `${API_DOCS_PREFIX}/` });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    const script = await t.app.inject({
      method: 'GET',
      url: `${API_DOCS_PREFIX}/static/swagger-ui-bundle.js`,
    });
    expect(script.statusCode).toBe(200);
  });

  it('points the reference page at /openapi.json, the one address of the document', async () => {
    const initializer = await t.app.inject({
      method: 'GET',
      url: `${API_DOCS_PREFIX}/static/swagger-initializer.js`,
    });
    expect(initializer.body).toContain(JSON.stringify(OPENAPI_PATH));
    const json = await t.app.inject({ method: 'GET', url: `${API_DOCS_PREFIX}/json` });
    expect(json.statusCode).toBe(301);
    expect(json.headers.location).toBe(OPENAPI_PATH);
  });
});

describe('a route without a schema', () => {
  it('is reported, so the check above fails when a route lacks one', async () => {
    const app = Fastify();
    await app.register(openapiPlugin, { webhookAuthHeader: 'X-Provider-Auth' });
    app.get(
      '/documented',
      { schema: { summary: 'Documented', response: { 204: z.null() } } },
      async () => null,
    );
    app.get('/forgotten', async () => ({ ok: true }));
    await app.ready();
    expect(undocumented(app.swagger() as unknown as Document)).toEqual(['GET /forgotten']);
    await app.close();
  });
});
