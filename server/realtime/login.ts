import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../errors.js';
import { requires } from '../http/credentials.js';
import { insertLoginCode, useLoginCode } from './queries/realtime-sessions.js';
import { loginBody, sessionRouteSchemas } from './route-schemas.js';

/** How long a login code may wait to be used: a log line holding one is stale soon after. */
export const LOGIN_CODE_TTL_SECONDS = 15 * 60;
/** Lifetime of each token of an inbox login session: the open page refreshes it. */
const LOGIN_TOKEN_TTL_SECONDS = 15 * 60;

const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

/**
 * Issues a single-use login code valid {@link LOGIN_CODE_TTL_SECONDS}: only its hash is stored,
 * so neither the database nor a log of it holds a credential for long.
 */
export async function issueLoginCode(app: FastifyInstance): Promise<{ code: string; expiresAt: Date }> {
  const code = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + LOGIN_CODE_TTL_SECONDS * 1000);
  await insertLoginCode(app.database.db, hashCode(code), expiresAt);
  return { code, expiresAt };
}

/** The inbox URL that carries a login code. */
export function loginUrl(base: string, code: string): string {
  const url = new URL('/', base);
  url.searchParams.set('code', code);
  return url.toString();
}

/**
 * `POST /api/realtime/login-codes` (API token; what `npm run inbox-link` calls) issues a code and
 * the inbox URL carrying it. `POST /api/realtime/login {code}` exchanges a code, once, for an
 * all-accounts inbox session (INBOX_SESSION_SECONDS) and its first token; a used, expired or
 * unknown code is a 401 whose `details.reason` says which, counted as a failed authentication.
 */
export function registerLoginRoutes(app: FastifyInstance): void {
  app.post(
    '/api/realtime/login-codes',
    { schema: sessionRouteSchemas.loginCode, config: requires('api') },
    async function issueLoginLink(request, reply) {
      const { code, expiresAt } = await issueLoginCode(app);
      const url = loginUrl(`${request.protocol}://${request.host}`, code);
      return reply.status(201).send({ code, url, expiresAt: expiresAt.toISOString() });
    },
  );

  // The code in the body is the credential: the route checks it itself, so it requires none.
  app.post(
    '/api/realtime/login',
    { schema: sessionRouteSchemas.login, config: requires('none') },
    async function logIn(request, reply) {
      const { code } = loginBody.parse(request.body);
      const outcome = await useLoginCode(app.database.db, hashCode(code));
      if (outcome !== 'ok') {
        return app.rejectCredentials(
          request,
          reply,
          new HooklineError(
            'HL_ERR_UNAUTHORIZED',
            `This login code is ${outcome === 'unknown' ? 'not valid' : outcome}`,
            {
              details: { reason: outcome },
            },
          ),
        );
      }
      const session = await app.realtimeSessions.create({
        accountIds: null,
        scopes: ['read', 'send'],
        ttlSeconds: LOGIN_TOKEN_TTL_SECONDS,
        sessionTtlSeconds: Math.min(
          app.config.INBOX_SESSION_SECONDS,
          app.config.REALTIME_SESSION_MAX_SECONDS,
        ),
        origin: 'login',
      });
      request.log.info({ sessionId: session.sessionId }, 'inbox login: session opened');
      return {
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        sessionId: session.sessionId,
        sessionExpiresAt: session.sessionExpiresAt.toISOString(),
      };
    },
  );
}
