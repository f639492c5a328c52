/**
 * Credentials that travel inside URLs, masked wherever a URL or a message that may hold one is
 * printed: configuration errors, logs, readiness answers.
 */

/**
 * Query parameters that carry credentials: any name with token, auth, key, secret, password or
 * signature in it, since a misconfigured client may put a credential in the query string under
 * any such name (`?unipile-auth=…`).
 */
const SECRET_QUERY = /([?&][^=&#\s]*(?:token|auth|key|secret|password|signature)[^=&#\s]*=)[^&#\s"']*/gi;

/**
 * The user-info part of an absolute URL (`postgres://user:password@host`), up to the last `@`
 * before the query: a password with a raw `@` or `/` in it is masked whole, at worst with part
 * of the host.
 */
const USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s?#"'<>]*@/gi;

/** Text safe to print: the user-info and credential query parameters of every URL in it masked. */
export function redactUrl(text: string): string {
  return text.replace(USER_INFO, '$1[redacted]@').replace(SECRET_QUERY, '$1[redacted]');
}
