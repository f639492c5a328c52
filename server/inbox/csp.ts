import type { CspDirectives } from '../shared/security-headers.js';

/**
 * The inbox page's Content-Security-Policy, in one place to extend: scripts, styles and
 * connections only to the gateway itself (`'self'` covers its `ws:`/`wss:` too) plus
 * INBOX_CONNECT_ORIGINS, and never framed.
 */
export function inboxCsp(connectOrigins: readonly string[]): CspDirectives {
  return {
    'default-src': ["'self'"],
    'connect-src': ["'self'", ...connectOrigins],
    'img-src': ["'self'", 'data:', 'blob:'],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}
