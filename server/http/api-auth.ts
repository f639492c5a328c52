import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';
import { secretMatcher } from './safe-equal.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * `onRequest` hook that requires `Authorization: Bearer <API_TOKEN>` on management routes.
     * It runs before the body is read, so an unauthenticated request never has it parsed.
     */
    requireApiToken: onRequestAsyncHookHandler;
  }
}

/** The secret of the management routes. */
export interface ApiAuthOptions {
  /** The API_TOKEN management routes require. */
  apiToken: string;
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * An `onRequest` hook that requires `Authorization: Bearer <secret>` (compared in constant time)
 * and otherwise rejects with `HL_ERR_UNAUTHORIZED` and `message`, counted as a failed
 * authentication of the client address.
 */
export function requireBearerSecret(
  app: FastifyInstance,
  secret: string,
  message: string,
): onRequestAsyncHookHandler {
  const matches = secretMatcher(secret);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request);
    if (!token || !matches(token)) {
      await app.rejectCredentials(request, reply, new HooklineError('HL_ERR_UNAUTHORIZED', message));
    }
  };
}

/** Decorates the app with `requireApiToken`, the hook that guards `/api/*` management routes. */
export const apiAuthPlugin = fp<ApiAuthOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate(
      'requireApiToken',
      requireBearerSecret(
        app,
        options.apiToken,
        'Missing or invalid API token (Authorization: Bearer <API_TOKEN>)',
      ),
    );
  },
  { name: 'hookline-api-auth', dependencies: ['hookline-auth-failures'] },
);
