/**
 * What a verified connection token grants. The realtime feature mints and verifies these tokens
 * (server/realtime/tokens.ts); the credentials plugin (server/http/credentials.ts) hands a grant to
 * every route that accepts a token, so the shape lives here, below both.
 */

/** Token scopes: `read` (sockets and the read API) and `send` (send replies for its accounts). */
export const TOKEN_SCOPES = ['read', 'send'] as const;
/** One scope of a connection token. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/**
 * What a connection may receive: the events of some accounts (each once; a list, not a set, since
 * an open socket keeps its grant and a set of a few ids costs about 230 bytes of heap against
 * 64), or (dev tokens only) of all.
 */
export type RealtimeScope = { kind: 'accounts'; accountIds: readonly string[] } | { kind: 'all' };

/** A verified connection token. */
export interface RealtimeGrant {
  scope: RealtimeScope;
  /** The token's `jti`. */
  tokenId: string;
  /** Expiry, in seconds since the epoch. */
  expiresAt: number;
  /**
   * The session the token belongs to (`sid`; `expiresAt` in seconds since the epoch): revocation,
   * connection caps and send budgets count per session. Absent only in tokens minted before
   * sessions existed, which cannot be refreshed.
   */
  session?: { id: string; expiresAt: number };
  /** What the token allows: `read` always, `send` when minted with it (docs/sending.md). Absent: `read`. */
  scopes?: ReadonlySet<TokenScope>;
}
