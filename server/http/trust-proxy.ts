import type { TrustProxy } from '../config-fields.js';

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
