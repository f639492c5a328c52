import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { HooklineError } from '../errors.js';
import {
  type RealtimeGrant,
  type RealtimeScope,
  TOKEN_SCOPES,
  type TokenScope,
} from '../http/connection-grant.js';

const ISSUER = 'hookline';
const AUDIENCE = 'hookline:realtime';

/**
 * `acc` lists the accounts. `all: true` replaces it in the dev token server/main.ts prints: the
 * minting route cannot produce it (its body only takes account ids).
 */
const common = {
  jti: z.string().min(1),
  exp: z.number(),
  scp: z.array(z.enum(TOKEN_SCOPES)).optional(),
  /** Session id and the session's end (seconds since the epoch): both or neither. */
  sid: z.string().min(1).optional(),
  sxp: z.number().optional(),
};
const claimsSchema = z.union([
  z.object({ acc: z.array(z.string().min(1)).min(1), ...common }),
  z.object({ all: z.literal(true), ...common }),
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
  // A token never outlives its session.
  const sessionEnd = typeof claims.sxp === 'number' ? claims.sxp : Number.POSITIVE_INFINITY;
  const expiresAt = Math.min(issuedAt + ttlSeconds, sessionEnd);
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

/** The session a token is minted in: its id and its end. */
export interface TokenSession {
  id: string;
  expiresAt: Date;
}

function sessionClaims(session: TokenSession | undefined): Record<string, unknown> {
  return session ? { sid: session.id, sxp: Math.floor(session.expiresAt.getTime() / 1000) } : {};
}

/**
 * Mints a token scoped to `accountIds`, valid for `ttlSeconds` (never past the session's end),
 * with `scopes` (default `['read']`).
 */
export function mintRealtimeToken(
  secret: string,
  accountIds: readonly string[],
  ttlSeconds: number,
  scopes: readonly TokenScope[] = ['read'],
  session?: TokenSession,
) {
  return sign(
    secret,
    { acc: [...new Set(accountIds)], scp: [...new Set(scopes)], ...sessionClaims(session) },
    ttlSeconds,
  );
}

/** Mints an all-accounts token that may send: an inbox login session's (server/realtime/login.ts). */
export function mintDevRealtimeToken(secret: string, ttlSeconds: number, session?: TokenSession) {
  return sign(secret, { all: true, scp: ['read', 'send'], ...sessionClaims(session) }, ttlSeconds);
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
  const { jti, exp, scp, sid, sxp } = claims.data;
  const scope: RealtimeScope =
    'acc' in claims.data ? { kind: 'accounts', accountIds: [...new Set(claims.data.acc)] } : { kind: 'all' };
  // A token minted before scopes existed reads only.
  const scopes = scp?.includes('send') ? READ_AND_SEND : READ_ONLY;
  const grant: RealtimeGrant = { scope, tokenId: jti, expiresAt: exp, scopes };
  if (sid !== undefined && sxp !== undefined) {
    // A token's expiry never passes its session's; this holds even if a signer got it wrong.
    if (sxp <= Date.now() / 1000) {
      throw new HooklineError('HL_ERR_UNAUTHORIZED', 'The session of this token has ended', {
        details: { reason: 'expired' },
      });
    }
    grant.session = { id: sid, expiresAt: sxp };
  }
  return { grant, payload };
}

/**
 * Verifies signature (HS256 only), issuer, audience and expiry. Any failure is one
 * `HL_ERR_UNAUTHORIZED`; `details.reason` tells an expired token (mint a new one) from a bad one.
 */
export async function verifyRealtimeToken(secret: string, token: string | undefined): Promise<RealtimeGrant> {
  return (await verify(secret, token)).grant;
}

/**
 * Mints the successor of a valid token: every claim it has (accounts, `all`, scopes, session)
 * kept, a new `jti`, and a fresh expiry as far ahead as the original lifetime (`exp - iat`),
 * clamped to 60 s..`maxTtlSeconds` and never past the session's end. A token without a session
 * (minted before sessions existed) has no successor. Throws like {@link verifyRealtimeToken} for
 * an invalid or expired one; `isRevoked` says whether the token's session was revoked.
 */
export async function refreshRealtimeToken(
  secret: string,
  token: string | undefined,
  maxTtlSeconds: number,
  isRevoked: (grant: RealtimeGrant) => boolean = () => false,
) {
  const { grant, payload } = await verify(secret, token);
  if (!grant.session) {
    throw new HooklineError('HL_ERR_UNAUTHORIZED', 'This token belongs to no session: mint a new one', {
      details: { reason: 'no_session' },
    });
  }
  if (isRevoked(grant)) throw sessionRevoked();
  const claims = Object.fromEntries(Object.entries(payload).filter(([name]) => !REGISTERED_CLAIMS.has(name)));
  const lifetime = typeof payload.iat === 'number' ? grant.expiresAt - payload.iat : maxTtlSeconds;
  const ttlSeconds = Math.min(maxTtlSeconds, Math.max(60, lifetime));
  return { ...(await sign(secret, claims, ttlSeconds)), grant };
}

/** The 401 of a token whose session was revoked (`details.reason` `revoked`). */
export function sessionRevoked(): HooklineError {
  return new HooklineError('HL_ERR_UNAUTHORIZED', 'The session of this token was revoked', {
    details: { reason: 'revoked' },
  });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether HOST only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}
