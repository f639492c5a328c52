import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of endpoint secrets, as Standard Webhooks libraries expect. */
const SECRET_PREFIX = 'whsec_';

/** A fresh endpoint secret: `whsec_` and 32 random bytes in base64. */
export function generateEndpointSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The key bytes of a `whsec_` secret (the part after the prefix is base64). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/**
 * One Standard Webhooks v1 signature: HMAC-SHA256 over `id.timestamp.body` keyed with the
 * secret's bytes, as `v1,<base64>`.
 *
 * @param timestampSeconds Unix time in seconds, the value of `webhook-timestamp`.
 */
export function signPayload(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${webhookId}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per live secret, space-separated. */
export function signatureHeader(
  secrets: readonly string[],
  webhookId: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((secret) => signPayload(secret, webhookId, timestampSeconds, body)).join(' ');
}

/** The endpoint signature schemes (docs/webhooks.md, "Signature schemes"). */
export const SIGNATURE_SCHEMES = ['standard-webhooks', 'hmac-sha256-hex'] as const;
/** One endpoint signature scheme: `standard-webhooks` (default) or `hmac-sha256-hex`. */
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

/** The header `hmac-sha256-hex` uses unless the endpoint names another: GitHub's. */
export const DEFAULT_HMAC_SIGNATURE_HEADER = 'X-Hub-Signature-256';

/**
 * One `hmac-sha256-hex` signature, GitHub's convention: `sha256=` and the hex HMAC-SHA256 of the
 * raw body, keyed with the secret string exactly as shown to the user (`whsec_` prefix included,
 * as UTF-8), so a verifier written for GitHub works with the secret pasted as is.
 */
export function hmacHexSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The `hmac-sha256-hex` header value: one signature per live secret, comma-separated, newest first. */
export function hmacHexSignatureHeader(secrets: readonly string[], body: string): string {
  return secrets.map((secret) => hmacHexSignature(secret, body)).join(',');
}
