import { HooklineError } from '../errors.js';
import { decryptSecret, encryptSecret } from './secret-box.js';

/**
 * Custom subscriber headers are often credentials (`Authorization`, `X-Api-Key`), so they are kept
 * like signing secrets: each value encrypted at rest in the endpoint's `headers` column, never
 * shown by the API. Names stay readable, so an operator sees which headers an endpoint sends.
 */

/** Prefix of a sealed value: `hlenc:` + the secret box's `v1.<iv>.<tag>.<ciphertext>`. */
const SEALED = 'hlenc:';

/**
 * What the API shows for every custom header value. Sending it back unchanged in a PATCH keeps
 * the stored value, so a client can round-trip the endpoint it read.
 */
export const MASKED_HEADER_VALUE = '********';

/** Custom headers by name; values sealed at rest, plain when sent. */
export type HeaderMap = Record<string, string>;

/** Whether a stored value is sealed; a plain one is from before encryption at rest. */
export function isSealedHeader(value: string): boolean {
  return value.startsWith(SEALED);
}

/** Encrypts every value that is not sealed yet. */
export function sealHeaders(headers: HeaderMap, key: Buffer): HeaderMap {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      isSealedHeader(value) ? value : `${SEALED}${encryptSecret(value, key)}`,
    ]),
  );
}

/** The values to send; throws HL_ERR_INTERNAL (never a value) when one cannot be decrypted. */
export function openHeaders(stored: HeaderMap, key: Buffer): HeaderMap {
  return Object.fromEntries(
    Object.entries(stored).map(([name, value]) => [
      name,
      isSealedHeader(value) ? decryptSecret(value.slice(SEALED.length), key) : value,
    ]),
  );
}

/** The headers as the API shows them: names, each value masked. */
export function maskHeaders(stored: HeaderMap): HeaderMap {
  return Object.fromEntries(Object.keys(stored).map((name) => [name, MASKED_HEADER_VALUE]));
}

/**
 * The sealed headers to store for a create (`current` empty) or a PATCH: a value sent back masked
 * keeps the stored value of that header (names compared regardless of case); others are sealed.
 * A masked value for a header that is not stored is refused: there is nothing to keep.
 */
export function sealIncomingHeaders(incoming: HeaderMap, current: HeaderMap, key: Buffer): HeaderMap {
  const stored = new Map(Object.entries(current).map(([name, value]) => [name.toLowerCase(), value]));
  const sealed: HeaderMap = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== MASKED_HEADER_VALUE) {
      sealed[name] = `${SEALED}${encryptSecret(value, key)}`;
      continue;
    }
    const kept = stored.get(name.toLowerCase());
    if (kept === undefined) {
      throw new HooklineError(
        'HL_ERR_INVALID_REQUEST',
        `Header ${name} is sent masked but has no stored value to keep`,
        { details: { header: name } },
      );
    }
    sealed[name] = isSealedHeader(kept) ? kept : `${SEALED}${encryptSecret(kept, key)}`;
  }
  return sealed;
}
