import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { requires } from '../http/credentials.js';
import { contentSecurityPolicy, PAGE_HEADERS } from '../shared/security-headers.js';
import { INBOX_DIR, INBOX_STYLESHEETS, inboxScript } from './bundle.js';
import { inboxCsp } from './csp.js';
import { inboxRouteSchemas } from './route-schemas.js';

/**
 * `GET /`: the inbox page that shows Hookline working. Its script is read (a build) or bundled (a
 * source checkout) once, on the first request, and kept in memory; a failure is retried on the
 * next request.
 */
export async function inboxRoutes(app: FastifyInstance): Promise<void> {
  let script: Promise<string> | undefined;
  const html = () => readFile(`${INBOX_DIR}index.html`, 'utf8');
  const css = async () =>
    (await Promise.all(INBOX_STYLESHEETS.map((file) => readFile(`${INBOX_DIR}${file}`, 'utf8')))).join('\n');

  // The page carries its login code in the URL: never let it leak through the Referer header.
  const headers = PAGE_HEADERS;
  const csp = contentSecurityPolicy(inboxCsp(app.config.INBOX_CONNECT_ORIGINS ?? []));

  app.get(
    '/',
    { schema: inboxRouteSchemas.page, config: requires('none') },
    async function servePage(_request, reply) {
      return reply
        .headers({ ...headers, 'content-security-policy': csp })
        .type('text/html; charset=utf-8')
        .send(await html());
    },
  );
  app.get(
    '/inbox.css',
    { schema: inboxRouteSchemas.css, config: requires('none') },
    async function serveStylesheet(_request, reply) {
      return reply
        .headers(headers)
        .type('text/css; charset=utf-8')
        .send(await css());
    },
  );
  app.get(
    '/inbox.js',
    { schema: inboxRouteSchemas.script, config: requires('none') },
    async function serveScript(_request, reply) {
      script ??= inboxScript().catch((error: unknown) => {
        script = undefined;
        throw error;
      });
      return reply
        .headers(headers)
        .type('text/javascript; charset=utf-8')
        .send(await script);
    },
  );
}
