/**
 * Response headers of the pages Hookline serves to browsers (the inbox, `/docs`): one place to
 * build them (docs/security.md, "Browser pages").
 */

/** A Content-Security-Policy as directives and their sources, e.g. `{ 'connect-src': ["'self'"] }`. */
export type CspDirectives = Record<string, readonly string[]>;

/** The `Content-Security-Policy` header value of `directives`. */
export function contentSecurityPolicy(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/** Headers every page and asset served to browsers carries: no MIME sniffing, no Referer. */
export const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;
