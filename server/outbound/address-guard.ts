import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { HooklineError } from '../errors.js';

/**
 * Addresses an endpoint may not point at unless ALLOW_PRIVATE_ENDPOINTS: this host, private
 * networks, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included), shared and
 * reserved ranges. Public unicast is all that remains.
 */
const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['100::', 64],
  ['2001:db8::', 32],
] as const) {
  forbidden.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 IPv6 address, if any. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(
    address,
  );
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2]!, 16);
  const low = Number.parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether an IP literal is loopback, private, link-local, unique-local, metadata or reserved. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(bare);
  if (family === 4) return forbidden.check(bare, 'ipv4');
  if (family !== 6) return true;
  const inner = embeddedIpv4(bare);
  if (inner) return forbidden.check(inner, 'ipv4');
  return forbidden.check(bare, 'ipv6');
}

function refused(host: string, address?: string): HooklineError {
  return new HooklineError(
    'HL_ERR_FORBIDDEN',
    `Endpoint host ${host} resolves to a private or reserved address; set ALLOW_PRIVATE_ENDPOINTS=true to allow it`,
    { details: { host, ...(address ? { address } : {}) } },
  );
}

/**
 * Checks an endpoint URL at creation: http(s) only, and (unless private endpoints are allowed)
 * every address its host resolves to must be public. Send time checks again after resolution.
 */
export async function assertEndpointUrlAllowed(url: URL, allowPrivate: boolean): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HooklineError('HL_ERR_INVALID_REQUEST', 'Endpoint URL must be http or https', {
      details: { field: 'url' },
    });
  }
  if (url.username || url.password) {
    throw new HooklineError('HL_ERR_INVALID_REQUEST', 'Endpoint URL must not carry credentials', {
      details: { field: 'url' },
    });
  }
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    if (isForbiddenAddress(host)) throw refused(host, host);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      dnsLookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found))),
    );
  } catch (error) {
    throw new HooklineError('HL_ERR_INVALID_REQUEST', `Endpoint host ${host} does not resolve`, {
      details: { field: 'url', host },
      cause: error,
    });
  }
  const bad = addresses.find((entry) => isForbiddenAddress(entry.address));
  if (bad) throw refused(host, bad.address);
}

/**
 * A `lookup` for undici's connector that resolves once and refuses forbidden addresses. The
 * socket connects to exactly the address checked here, so a DNS answer that changes between the
 * check and the connection (rebinding) cannot redirect it.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const list = addresses as LookupAddress[];
    const bad = list.find((entry) => isForbiddenAddress(entry.address));
    if (bad || list.length === 0) {
      callback(refused(hostname, bad?.address), '', 0);
      return;
    }
    if (options.all) {
      (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, list);
      return;
    }
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
};
