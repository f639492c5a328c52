import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { HooklineError } from '../errors.js';

const ISSUER = 'hookline';
const AUDIENCE = 'hookline:realtime';

/**
 * What a connection may receive: the events of some accounts (each once; a list, not a set, since
 * an open socket keeps its grant and a set of a few ids costs about 230 bytes of heap against
 * 64), or (dev tokens only) of all.
 */
export type RealtimeScope = { kind: 'accounts'; accountIds: readonly string[] } | { kind: 'all' };

/** A verified connection token. */
export interface RealtimeGrant {
  scope: RealtimeScope;
  /** The token's `jti`: connections are counted per token with it. */
  tokenId: string;
  /** Expiry, in seconds since the epoch. */
  expiresAt: number;
  /** What the token allows: `read` always, `send` when minted with it (docs/sending.md). Absent: `read`. */
  scopes?: ReadonlySet<TokenScope>;
}

/** Token scopes: `read` (sockets and the read API) and `send` (send replies for its accounts). */
export const TOKEN_SCOPES = ['read', 'send'] as const;
/** One scope of a connection token. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/**
 * `acc` lists the accounts. `all: true` replaces it in the dev token server/main.ts prints: the
 * minting route cannot produce it (its body only takes account ids).
 */
const scopesClaim = z.array(z.enum(TOKEN_SCOPES)).optional();
const claimsSchema = z.union([
  z.object({
    acc: z.array(z.string().min(1)).min(1),
    jti: z.string().min(1),
    exp: z.number(),
    scp: scopesClaim,
  }),
  z.object({ all: z.literal(true), jti: z.string().min(1), exp: z.number(), scp: scopesClaim }),
]);

/**
 * Each secret's HMAC key, imported once: given the raw bytes, jose imports them again for every
 * token, an extra asynchronous WebCrypto job per connection that a reconnect storm of tens of
 * thousands of sockets pays in full.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function key(secret: string): Promise<CryptoKey> {
  let imported = keys.get(secret);
  if (!imported) {
    imported = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    keys.set(secret, imported);
  }
  return imported;
}

async function sign(secret: string, claims: Record<string, unknown>, ttlSeconds: number) {
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(await key(secret));
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** Mints a token scoped to `accountIds`, valid for `ttlSeconds`, with `scopes` (default `['read']`). */
export function mintRealtimeToken(
  secret: string,
  accountIds: readonly string[],
  ttlSeconds: number,
  scopes: readonly TokenScope[] = ['read'],
) {
  return sign(secret, { acc: [...new Set(accountIds)], scp: [...new Set(scopes)] }, ttlSeconds);
}

/** Mints the all-accounts development token server/main.ts prints in the inbox URL (it may send). */
export function mintDevRealtimeToken(secret: string, ttlSeconds: number) {
  return sign(secret, { all: true, scp: ['read', 'send'] }, ttlSeconds);
}

/** Claims every token has, set by {@link sign}; a successor gets fresh ones. */
const REGISTERED_CLAIMS = new Set(['iss', 'aud', 'jti', 'iat', 'exp', 'nbf', 'sub']);

/**
 * The only two scope sets a grant can have (every grant may read), shared by all grants: a
 * socket keeps its grant for as long as it is open, and a set of its own would cost it about
 * 300 bytes of heap.
 */
const READ_ONLY: ReadonlySet<TokenScope> = new Set(['read']);
const READ_AND_SEND: ReadonlySet<TokenScope> = new Set(['read', 'send']);

interface VerifiedToken {
  grant: RealtimeGrant;
  /** Everything the token says, registered claims included. */
  payload: Record<string, unknown>;
}

async function verify(secret: string, token: string | undefined): Promise<VerifiedToken> {
  if (!token) {
    throw new HooklineError('HL_ERR_UNAUTHORIZED', 'Missing connection token (?token=…)', {
      details: { reason: 'missing' },
    });
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, await key(secret), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    }));
  } catch (error) {
    const expired = error instanceof errors.JWTExpired;
    throw new HooklineError(
      'HL_ERR_UNAUTHORIZED',
      expired ? 'The connection token has expired' : 'Invalid connection token',
      { details: { reason: expired ? 'expired' : 'invalid' } },
    );
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new HooklineError('HL_ERR_UNAUTHORIZED', 'Invalid connection token', {
      details: { reason: 'invalid' },
    });
  }
  const { jti, exp, scp } = claims.data;
  const scope: RealtimeScope =
    'acc' in claims.data ? { kind: 'accounts', accountIds: [...new Set(claims.data.acc)] } : { kind: 'all' };
  // A token minted before scopes existed reads only.
  const scopes = scp?.includes('send') ? READ_AND_SEND : READ_ONLY;
  return { grant: { scope, tokenId: jti, expiresAt: exp, scopes }, payload };
}

/**
 * Verifies signature (HS256 only), issuer, audience and expiry. Any failure is one
 * `HL_ERR_UNAUTHORIZED`; `details.reason` tells an expired token (mint a new one) from a bad one.
 */
export async function verifyRealtimeToken(secret: string, token: string | undefined): Promise<RealtimeGrant> {
  return (await verify(secret, token)).grant;
}

/**
 * Mints the successor of a valid token: every claim it has (accounts, `all`, scopes) kept, a new
 * `jti`, and a fresh expiry as far ahead as the original lifetime (`exp - iat`), clamped to
 * 60 s..`maxTtlSeconds`. Throws like {@link verifyRealtimeToken} for an invalid or expired one.
 */
export async function refreshRealtimeToken(secret: string, token: string | undefined, maxTtlSeconds: number) {
  const { grant, payload } = await verify(secret, token);
  const claims = Object.fromEntries(Object.entries(payload).filter(([name]) => !REGISTERED_CLAIMS.has(name)));
  const lifetime = typeof payload.iat === 'number' ? grant.expiresAt - payload.iat : maxTtlSeconds;
  const ttlSeconds = Math.min(maxTtlSeconds, Math.max(60, lifetime));
  return { ...(await sign(secret, claims, ttlSeconds)), grant };
}

/**
 * Lifetime of the dev token in the printed inbox URL: minutes, so a log line holding it is stale
 * soon after; the inbox page refreshes it for as long as it stays open.
 */
export const DEV_TOKEN_TTL_SECONDS = 15 * 60;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether HOST only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

/**
 * The inbox URL server/main.ts prints on start. Only when listening on loopback does it carry an
 * all-accounts dev token, valid {@link DEV_TOKEN_TTL_SECONDS}: on any other address the log line
 * would hand every account's messages to whoever reads the logs, so there the URL has no token
 * (see {@link isLoopbackHost}) and the host app mints scoped tokens instead.
 */
export async function inboxUrl(listenAddress: string, host: string, secret: string): Promise<string> {
  const url = new URL('/', listenAddress);
  if (!isLoopbackHost(host)) return url.toString();
  const { token } = await mintDevRealtimeToken(secret, DEV_TOKEN_TTL_SECONDS);
  url.searchParams.set('token', token);
  return url.toString();
}
