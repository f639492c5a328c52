import { HooklineError } from '../errors.js';
import { decryptSecret, encryptSecret } from './secret-box.js';

/**
 * Custom subscriber headers are often credentials (`Authorization`, `X-Api-Key`), so they are kept
 * like signing secrets: each value encrypted at rest in the endpoint's `headers` column, never
 * shown by the API. Names stay readable, so an operator sees which headers an endpoint sends.
 *
 * Each value is pinned to the host (`host:port` of the endpoint URL) it was given for: the host
 * is sealed with it, and a value is only ever sent to that host (docs/security.md). A PATCH that
 * moves an endpoint to another host must give its headers again (endpoint-routes.ts).
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

/**
 * The sealed plaintext of a pinned value: NUL, host, NUL, value. Header values cannot contain NUL
 * (custom-headers.ts), so a value sealed before pinning existed never starts with one.
 */
const PIN = '\0';

/** Whether a stored value is sealed; a plain one is from before encryption at rest. */
export function isSealedHeader(value: string): boolean {
  return value.startsWith(SEALED);
}

/** The host a URL's headers are pinned to: `host[:port]`, lower case. */
export function headerHost(url: string): string {
  return new URL(url).host.toLowerCase();
}

function seal(value: string, key: Buffer, host: string): string {
  return `${SEALED}${encryptSecret(`${PIN}${host}${PIN}${value}`, key)}`;
}

/** A stored value as plaintext, and the host it is pinned to (undefined: stored before pinning). */
function unseal(stored: string, key: Buffer): { value: string; host: string | undefined } {
  const plain = isSealedHeader(stored) ? decryptSecret(stored.slice(SEALED.length), key) : stored;
  if (!plain.startsWith(PIN)) return { value: plain, host: undefined };
  const end = plain.indexOf(PIN, 1);
  return { value: plain.slice(end + 1), host: plain.slice(1, end) };
}

/**
 * Seals every value not sealed yet and pins every value not pinned yet to `host` (the endpoint's
 * current host: the one such a value was last given for). Pinned values are kept as they are.
 */
export function pinHeaders(headers: HeaderMap, key: Buffer, host: string): HeaderMap {
  return Object.fromEntries(
    Object.entries(headers).map(([name, stored]) => {
      const { value, host: pinned } = unseal(stored, key);
      return [name, pinned === undefined ? seal(value, key, host) : stored];
    }),
  );
}

/**
 * The values to send to `host`: a value pinned to another host is left out, whatever happened
 * to the endpoint's URL. Throws HL_ERR_INTERNAL (never a value) when one cannot be decrypted.
 */
export function openHeaders(stored: HeaderMap, key: Buffer, host: string): HeaderMap {
  const open: HeaderMap = {};
  for (const [name, sealed] of Object.entries(stored)) {
    const { value, host: pinned } = unseal(sealed, key);
    if (pinned === undefined || pinned === host) open[name] = value;
  }
  return open;
}

/** The headers as the API shows them: names, each value masked. */
export function maskHeaders(stored: HeaderMap): HeaderMap {
  return Object.fromEntries(Object.keys(stored).map((name) => [name, MASKED_HEADER_VALUE]));
}

/**
 * The sealed headers to store for a create (`current` empty) or a PATCH, pinned to `host`: a value
 * sent back masked keeps the stored value of that header (names compared regardless of case);
 * others are sealed. A masked value for a header that is not stored is refused: there is nothing
 * to keep.
 */
export function sealIncomingHeaders(
  incoming: HeaderMap,
  current: HeaderMap,
  key: Buffer,
  host: string,
): HeaderMap {
  const stored = new Map(Object.entries(current).map(([name, value]) => [name.toLowerCase(), value]));
  const sealed: HeaderMap = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== MASKED_HEADER_VALUE) {
      sealed[name] = seal(value, key, host);
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
    sealed[name] = pinHeaders({ [name]: kept }, key, host)[name] as string;
  }
  return sealed;
}
