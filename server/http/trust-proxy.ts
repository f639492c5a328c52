import { isIP } from 'node:net';
import { z } from 'zod';

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY lists beside IPs and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits;
}

/**
 * fastify's `trustProxy` forms: `true`/`false`, a number of proxy hops, or a comma-separated list
 * of proxy addresses (IPs, CIDRs, `loopback`, `linklocal`, `uniquelocal`). Unset: false, the
 * client address is the socket's and forwarded headers are ignored.
 */
export const trustProxySchema = z.preprocess(
  (value: unknown) => (value === '' ? undefined : value),
  z
    .string()
    .default('false')
    .transform((value, context): boolean | number | string[] => {
      const trimmed = value.trim();
      if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
      if (/^\d+$/.test(trimmed)) return Number(trimmed);
      const entries = trimmed.split(',').map((entry) => entry.trim());
      const invalid = entries.filter((entry) => !isProxyAddress(entry));
      if (invalid.length > 0) {
        context.addIssue({
          code: 'custom',
          message: `expected true, false, a hop count or a comma-separated list of IPs/CIDRs (not ${invalid.join(', ')})`,
        });
        return z.NEVER;
      }
      return entries;
    }),
);

/** A parsed TRUST_PROXY. */
export type TrustProxy = z.output<typeof trustProxySchema>;

/**
 * TRUST_PROXY as fastify's `trustProxy` takes it. A hop count trusts that many proxies nearest
 * the server whatever their address (proxy-addr's meaning): fastify itself refuses a bare number,
 * since the nearest hop could then be the client, so docs/security.md says to use it only when
 * the gateway is reachable through the proxies alone.
 */
export function trustProxyOption(
  value: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value;
}
