import { HooklineError } from '../errors.js';

/**
 * Whether an id (a provider's chat, message or attachment id) can stand as one URL path segment:
 * not empty, not `.` or `..` (which a URL resolves as "here" and "up": `/chats/../messages` is
 * `/messages`), and without `/`. Percent-encoding does not help: `%2E%2E` is resolved the same.
 */
export function isPathSafeId(id: string): boolean {
  return id !== '' && id !== '.' && id !== '..' && !id.includes('/');
}

/** The error message of an id refused by {@link isPathSafeId}. */
export const PATH_UNSAFE_ID_MESSAGE = 'an id may not be "." or ".." or contain "/"';

/**
 * `id` as one percent-encoded URL path segment, for every provider path built from an id. Throws
 * `HL_ERR_INVALID_REQUEST` for an id refused by {@link isPathSafeId}: it would name another path.
 */
export function pathSegment(id: string): string {
  if (!isPathSafeId(id)) {
    throw new HooklineError('HL_ERR_INVALID_REQUEST', `Invalid id for a path: ${PATH_UNSAFE_ID_MESSAGE}`);
  }
  return encodeURIComponent(id);
}
