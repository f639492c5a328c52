import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Call when a request's credentials are missing or wrong: counts the failure against the
     * client address and throws `unauthorized`, or `HL_ERR_AUTH_RATE_LIMITED` (429, Retry-After)
     * once the address is over its budget.
     */
    rejectCredentials(
      request: FastifyRequest,
      reply: FastifyReply,
      unauthorized: HooklineError,
    ): Promise<never>;
  }
}

/** How many failed authentications a client address may make before `HL_ERR_AUTH_RATE_LIMITED`. */
export interface AuthFailuresOptions {
  /** Failures one client address may make per window. */
  limit: number;
  /** The window, in ms. */
  windowMs: number;
}

/** Most client addresses remembered at once; the least recently failing are forgotten first. */
const TRACKED_ADDRESSES = 10_000;

/**
 * Rate limits failed authentication per client address (`request.ip`, which TRUST_PROXY decides)
 * on every authenticated surface together, with @fastify/rate-limit's store. Only failures are
 * counted, and credentials are checked before the budget is: a correct caller is never slowed,
 * even one sharing an address with an attacker. Guessing stays hopeless regardless (every
 * credential has 128+ random bits); the limit bounds what a client can make the gateway do and
 * log with bad credentials.
 */
export const authFailuresPlugin = fp<AuthFailuresOptions>(
  async (app: FastifyInstance, options) => {
    // Not global: no route is limited as such; the limiter is only asked on a failure.
    await app.register(rateLimit, { global: false, cache: TRACKED_ADDRESSES });
    const countFailure = app.createRateLimit({ max: options.limit, timeWindow: options.windowMs });

    app.decorate(
      'rejectCredentials',
      async (request: FastifyRequest, reply: FastifyReply, unauthorized: HooklineError): Promise<never> => {
        closeIfBodyPending(request, reply);
        const counted = await countFailure(request);
        if (!counted.isAllowed && counted.isExceeded) {
          request.log.debug({ ip: request.ip }, 'authentication failures over the limit');
          reply.header('retry-after', String(counted.ttlInSeconds));
          throw new HooklineError(
            'HL_ERR_AUTH_RATE_LIMITED',
            'Too many failed authentication attempts from this address; retry later',
            { details: { retryAfterSeconds: counted.ttlInSeconds } },
          );
        }
        throw unauthorized;
      },
    );
  },
  { name: 'hookline-auth-failures' },
);

/**
 * A refused request whose body was never read: closing the connection after the answer spares
 * Node reading (and discarding) the rest of it to keep the connection alive.
 */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  const { headers } = request;
  const length = Number(headers['content-length'] ?? 0);
  if (headers['transfer-encoding'] !== undefined || length > 0) reply.header('connection', 'close');
}
