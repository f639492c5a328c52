import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';
import { closeIfBodyPending } from './auth-failures.js';
import type { RealtimeGrant } from './connection-grant.js';
import { secretMatcher } from './safe-equal.js';

/**
 * Who made a request, as the credentials plugin decided: the operator or host app's backend
 * (API_TOKEN, every account), a connection token (its grant: accounts, scopes, session), the
 * provider (its webhook secret), or a metrics scraper (METRICS_TOKEN).
 */
export type Caller =
  | { kind: 'api' }
  | { kind: 'token'; grant: RealtimeGrant }
  | { kind: 'webhook' }
  | { kind: 'metrics' };

/**
 * A credential a route may accept: `api` (API_TOKEN), `read` (any connection token: every token
 * reads), `send` (a connection token minted with the `send` scope), `webhook` (the provider's
 * secret in its header), `metrics` (METRICS_TOKEN, when set).
 */
export type Credential = 'api' | 'read' | 'send' | 'webhook' | 'metrics';

/** What a route declares in `config.credentials`. */
export interface RouteCredentials {
  /** The callers the route accepts, any one sufficing; `none` for a route open to anyone. */
  accepts: readonly Credential[] | 'none';
  /**
   * Where a connection token is presented: `Authorization: Bearer` (the default), or the `token`
   * query parameter on the WebSocket upgrade, since a browser cannot give that request a header.
   * A query token is judged in `preValidation`, before the route's own hooks but once the query
   * was checked like every other (a NUL in it is a 400); the upgrade has no body to spare.
   */
  tokenIn?: 'header' | 'query';
}

/** Verifies a connection token (signature, expiry, revocation), throwing a `HooklineError` 401. */
export type TokenVerifier = (token: string | undefined) => Promise<RealtimeGrant>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route's caller must present (server/http/credentials.ts); every route declares it. */
    credentials?: RouteCredentials;
  }
  interface FastifyRequest {
    /** Who is calling, decided before the body is read; null on a route open to anyone. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** Tells the credentials plugin how to verify connection tokens (the realtime feature does). */
    setTokenVerifier(verify: TokenVerifier): void;
  }
}

/** Credentials that combine: the API token, or a connection token with a scope. */
type ApiOrToken = 'api' | 'read' | 'send';

/**
 * The route options that declare what a route requires: `{ config: requires('api', 'read') }`.
 * The webhook secret, METRICS_TOKEN and `none` stand alone.
 */
export function requires(...accepted: ['webhook' | 'metrics' | 'none'] | [ApiOrToken, ...ApiOrToken[]]): {
  credentials: RouteCredentials;
} {
  const [first, ...rest] = accepted;
  return { credentials: { accepts: first === 'none' ? 'none' : [first, ...rest] } };
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The accounts a caller may read and act for: undefined for all; none without a caller (fail closed). */
export function callerAccounts(caller: Caller | null): string[] | undefined {
  if (caller?.kind === 'api') return undefined;
  if (caller?.kind !== 'token') return [];
  const { scope } = caller.grant;
  return scope.kind === 'all' ? undefined : [...scope.accountIds];
}

/** The secrets callers present; connection tokens are verified by the realtime feature instead. */
export interface CredentialsOptions {
  /** API_TOKEN. */
  apiToken: string;
  /** The provider's webhook: the header it sends its secret in, and that secret (INBOUND_SECRET). */
  webhook: { header: string; secret: string };
  /** METRICS_TOKEN; unset, routes requiring `metrics` are open. */
  metricsToken?: string;
}

// One object per kind of caller without details, shared by every request.
const API: Caller = { kind: 'api' };
const WEBHOOK: Caller = { kind: 'webhook' };
const METRICS: Caller = { kind: 'metrics' };

const unauthorized = (message: string) => new HooklineError('HL_ERR_UNAUTHORIZED', message);
const API_TOKEN_REQUIRED = 'Missing or invalid API token (Authorization: Bearer <API_TOKEN>)';
const MISSING_CREDENTIALS = 'Missing credentials: Authorization: Bearer <API_TOKEN or connection token>';

/**
 * The one place that decides who is calling (docs/security.md, "Credentials: who is calling").
 * Every route declares what it accepts in `config.credentials` ({@link requires}); one
 * `onRequest` hook, run before any body is read (for a token in the query, the route's first
 * `preValidation` hook: {@link RouteCredentials.tokenIn}), sets `request.caller` or refuses: 401
 * `HL_ERR_UNAUTHORIZED` for missing or wrong credentials (counted by `app.rejectCredentials`, so
 * it may become 429 `HL_ERR_AUTH_RATE_LIMITED`), 403 `HL_ERR_FORBIDDEN` for a token without a
 * scope the route needs. Secrets are compared in constant time. A route that declares nothing
 * makes the app fail to start, so none is left open by omission.
 */
export const credentialsPlugin = fp<CredentialsOptions>(
  async (app: FastifyInstance, options) => {
    const isApiToken = secretMatcher(options.apiToken);
    const isWebhookSecret = secretMatcher(options.webhook.secret);
    const webhookHeader = options.webhook.header.toLowerCase();
    const isMetricsToken = options.metricsToken ? secretMatcher(options.metricsToken) : undefined;
    let verifyToken: TokenVerifier | undefined;
    app.decorate('setTokenVerifier', (verify: TokenVerifier) => {
      verifyToken = verify;
    });
    app.decorateRequest('caller', null);

    const reject = (request: FastifyRequest, reply: FastifyReply, error: HooklineError) =>
      app.rejectCredentials(request, reply, error);

    async function tokenCaller(
      request: FastifyRequest,
      reply: FastifyReply,
      declared: RouteCredentials,
      accepts: readonly Credential[],
    ): Promise<void> {
      const presented = declared.tokenIn === 'query' ? queryToken(request) : bearerToken(request);
      if (presented === undefined && accepts.includes('api')) {
        await reject(request, reply, unauthorized(MISSING_CREDENTIALS));
      }
      let grant: RealtimeGrant;
      try {
        grant = await (verifyToken as TokenVerifier)(presented);
      } catch (error) {
        if (!(error instanceof HooklineError)) throw error;
        return reject(request, reply, error);
      }
      if (!accepts.includes('read') && !grant.scopes?.has('send')) {
        // A valid token lacking a scope is no failed authentication: not counted, but the body is
        // still not worth reading.
        closeIfBodyPending(request, reply);
        throw new HooklineError(
          'HL_ERR_FORBIDDEN',
          'This token may not send: mint it with scopes ["read","send"]',
        );
      }
      request.caller = { kind: 'token', grant };
    }

    async function decideCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const declared = request.routeOptions.config.credentials;
      // Undeclared: only the not-found handler, since every route declares (checked on ready).
      if (declared && declared.tokenIn !== 'query') await decide(request, reply, declared);
    }

    async function decideQueryCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const declared = request.routeOptions.config.credentials;
      if (declared) await decide(request, reply, declared);
    }

    async function decide(request: FastifyRequest, reply: FastifyReply, declared: RouteCredentials) {
      // `none`: anyone, and no caller.
      if (declared.accepts === 'none') return;
      const { accepts } = declared;
      if (accepts.includes('webhook')) {
        const presented = request.headers[webhookHeader];
        if (typeof presented === 'string' && isWebhookSecret(presented)) request.caller = WEBHOOK;
        else
          await reject(request, reply, unauthorized(`Missing or invalid ${options.webhook.header} header`));
        return;
      }
      const bearer = bearerToken(request);
      if (accepts.includes('metrics')) {
        if (!isMetricsToken) return;
        if (bearer !== undefined && isMetricsToken(bearer)) request.caller = METRICS;
        else
          await reject(
            request,
            reply,
            unauthorized('Missing or invalid METRICS_TOKEN (Authorization: Bearer …)'),
          );
        return;
      }
      if (accepts.includes('api') && bearer !== undefined && isApiToken(bearer)) {
        request.caller = API;
        return;
      }
      if (accepts.includes('read') || accepts.includes('send')) {
        await tokenCaller(request, reply, declared, accepts);
        return;
      }
      await reject(request, reply, unauthorized(API_TOKEN_REQUIRED));
    }
    app.addHook('onRequest', decideCaller);

    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => {
      routes.push(route);
      if (route.config?.credentials?.tokenIn !== 'query') return;
      const own = route.preValidation ?? [];
      route.preValidation = [decideQueryCaller, ...(Array.isArray(own) ? own : [own])];
    });
    // Checked once every route is registered, so a plugin may declare for routes a third-party
    // plugin registers (its own onRoute hook runs after this one).
    app.addHook('onReady', async () => {
      const undeclared = routes.filter((route) => !route.config?.credentials);
      if (undeclared.length > 0) {
        const names = undeclared.map((route) => `${route.method} ${route.url}`).join(', ');
        throw new HooklineError(
          'HL_ERR_CONFIG',
          `Routes that declare no credentials (config.credentials): ${names}`,
        );
      }
      const takesTokens = routes.some((route) => {
        const accepts = route.config?.credentials?.accepts;
        return accepts !== 'none' && (accepts?.includes('read') || accepts?.includes('send'));
      });
      if (takesTokens && !verifyToken) {
        throw new HooklineError('HL_ERR_CONFIG', 'Routes accept connection tokens but nothing verifies them');
      }
      routes.length = 0;
    });
  },
  { name: 'hookline-credentials', dependencies: ['hookline-auth-failures'] },
);

/** The `token` query parameter, when there is exactly one. */
function queryToken(request: FastifyRequest): string | undefined {
  const { token } = request.query as Record<string, unknown>;
  return typeof token === 'string' ? token : undefined;
}
