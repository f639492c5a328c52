import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Target } from './target.js';

export interface ForgeOptions {
  secret: string;
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  alg?: 'HS256' | 'HS512';
}

/** Signs a connection token with chosen claims, as an attacker who knows (or guesses) a key would. */
export function forgeToken(options: ForgeOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(options.claims ?? { acc: ['acc_any'] })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'hookline')
    .setAudience(options.audience ?? 'hookline:realtime')
    .setJti(randomUUID())
    .setIssuedAt(now - 120)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(new TextEncoder().encode(options.secret));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that must all be refused (401) wherever a connection token is accepted. */
export async function forgedTokens(jwtSecret: string, valid: string): Promise<Record<string, string>> {
  const [header, payload, signature] = valid.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return {
    'alg none': `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, all: true })}.`,
    'wrong key': await forgeToken({ secret: `${jwtSecret}x`, claims: { all: true } }),
    'wrong issuer': await forgeToken({ secret: jwtSecret, issuer: 'evil' }),
    'wrong audience': await forgeToken({ secret: jwtSecret, audience: 'hookline:admin' }),
    'HS512 with the key': await forgeToken({ secret: jwtSecret, alg: 'HS512' }),
    'no accounts': await forgeToken({ secret: jwtSecret, claims: { acc: [] } }),
    'all: "yes"': await forgeToken({ secret: jwtSecret, claims: { all: 'yes' } }),
    expired: await forgeToken({ secret: jwtSecret, expiresIn: -60 }),
    'payload swapped to all': `${header}.${base64url({ ...claims, all: true, acc: undefined })}.${signature}`,
    'signature stripped': `${header}.${payload}.`,
    truncated: valid.slice(0, -3),
    garbage: 'not.a.jwt',
    huge: 'a'.repeat(8000),
  };
}

/** Mints a connection token through the API. */
export async function mintToken(target: Target, accountIds: string[], ttlSeconds = 600): Promise<string> {
  const answer = await target.tally.http({
    path: '/api/realtime/tokens',
    headers: target.apiAuth,
    body: { accountIds, ttlSeconds },
    status: 200,
  });
  return (answer.json as { token: string }).token;
}
