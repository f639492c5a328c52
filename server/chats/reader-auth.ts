import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HooklineError } from '../errors.js';
import { bearerToken } from '../http/api-auth.js';
import { secretMatcher } from '../http/safe-equal.js';
import type { RealtimeScope } from '../realtime/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Which accounts this request may read; set by the inbox read routes' auth, null before. */
    readScope: RealtimeScope | null;
  }
}

/**
 * The inbox read routes accept two credentials: the API token (the host app's backend, every
 * account) or a realtime connection token (a browser, only the accounts in its token). The
 * browser thus loads its first page with the same token its socket uses, and never sees
 * API_TOKEN. An `onRequest` hook: credentials are checked before any body is read.
 */
export function readerAuth(app: FastifyInstance, apiToken: string) {
  const isApiToken = secretMatcher(apiToken);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = bearerToken(request);
    if (!presented) {
      await app.rejectCredentials(
        request,
        reply,
        new HooklineError(
          'HL_ERR_UNAUTHORIZED',
          'Missing credentials: Authorization: Bearer <API_TOKEN or connection token>',
        ),
      );
      return;
    }
    if (isApiToken(presented)) {
      request.readScope = { kind: 'all' };
      return;
    }
    try {
      request.readScope = (await app.realtimeSessions.verify(presented)).scope;
    } catch (error) {
      if (!(error instanceof HooklineError)) throw error;
      await app.rejectCredentials(request, reply, error);
    }
  };
}

/** The account ids a scope allows, or undefined for all. No scope allows nothing (fail closed). */
export function allowedAccounts(scope: RealtimeScope | null): string[] | undefined {
  if (!scope) return [];
  return scope.kind === 'all' ? undefined : [...scope.accountIds];
}
