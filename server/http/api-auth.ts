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

export const apiAuthPlugin = fp<ApiAuthOptions>(
  async (app: FastifyInstance, options) => {
    const isApiToken = secretMatcher(options.apiToken);
    app.decorate('requireApiToken', async (request: FastifyRequest, reply: FastifyReply) => {
      const token = bearerToken(request);
      if (!token || !isApiToken(token)) {
        await app.rejectCredentials(
          request,
          reply,
          new HooklineError(
            'HL_ERR_UNAUTHORIZED',
            'Missing or invalid API token (Authorization: Bearer <API_TOKEN>)',
          ),
        );
      }
    });
  },
  { name: 'hookline-api-auth', dependencies: ['hookline-auth-failures'] },
);
