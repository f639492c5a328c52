import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { RealtimeGrant, TokenScope } from '../http/connection-grant.js';
import {
  insertRealtimeSession,
  readRevokedSessionIds,
  revokeRealtimeSession,
} from './queries/realtime-sessions.js';
import {
  mintDevRealtimeToken,
  mintRealtimeToken,
  refreshRealtimeToken,
  sessionRevoked,
  verifyRealtimeToken,
} from './tokens.js';

/** What a new session covers and how long it and its first token live. */
export interface NewSession {
  /** Null: every account (inbox login sessions only). */
  accountIds: readonly string[] | null;
  scopes: readonly TokenScope[];
  ttlSeconds: number;
  sessionTtlSeconds: number;
  origin: 'api' | 'login';
}

/** A new session's first token. */
export interface SessionToken {
  token: string;
  expiresAt: Date;
  sessionId: string;
  sessionExpiresAt: Date;
}

/**
 * Realtime sessions on this instance (docs/realtime.md, "Sessions"): creates them with their first
 * token, verifies tokens against the revoked set, refreshes within the session, revokes. The
 * revoked set is kept in memory, so a verification costs no query: it is filled on start and after
 * every reconnection of the LISTEN connection, and a revocation on any instance reaches it by
 * NOTIFY within milliseconds ({@link markRevoked}).
 */
export class SessionRegistry {
  readonly #db: Db;
  readonly #secret: string;
  readonly #maxTtlSeconds: number;
  readonly #revoked = new Set<string>();
  readonly #listeners = new Set<(sessionId: string) => void>();

  constructor(options: { db: Db; jwtSecret: string; maxTokenTtlSeconds: number }) {
    this.#db = options.db;
    this.#secret = options.jwtSecret;
    this.#maxTtlSeconds = options.maxTokenTtlSeconds;
  }

  /** Creates a session and mints its first token. */
  async create(session: NewSession): Promise<SessionToken> {
    const id = `ses_${randomUUID().replaceAll('-', '')}`;
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + session.sessionTtlSeconds) * 1000);
    await insertRealtimeSession(this.#db, {
      id,
      accountIds: session.accountIds ? [...session.accountIds] : null,
      scopes: [...session.scopes],
      origin: session.origin,
      expiresAt,
    });
    const minted = session.accountIds
      ? await mintRealtimeToken(this.#secret, session.accountIds, session.ttlSeconds, session.scopes, {
          id,
          expiresAt,
        })
      : await mintDevRealtimeToken(this.#secret, session.ttlSeconds, { id, expiresAt });
    return { ...minted, sessionId: id, sessionExpiresAt: expiresAt };
  }

  /** Verifies a token (like {@link verifyRealtimeToken}) and that its session was not revoked. */
  async verify(token: string | undefined): Promise<RealtimeGrant> {
    const grant = await verifyRealtimeToken(this.#secret, token);
    if (this.isRevoked(grant)) throw sessionRevoked();
    return grant;
  }

  /** Mints the successor of a valid token of a live session, never outliving the session. */
  refresh(token: string | undefined) {
    return refreshRealtimeToken(this.#secret, token, this.#maxTtlSeconds, (grant) => this.isRevoked(grant));
  }

  /** Whether the grant's session was revoked. */
  isRevoked(grant: RealtimeGrant): boolean {
    return grant.session !== undefined && this.#revoked.has(grant.session.id);
  }

  /** Revokes a session on every instance. @returns whether a live session of that id existed. */
  async revoke(sessionId: string): Promise<boolean> {
    const revoked = await revokeRealtimeSession(this.#db, sessionId);
    if (revoked) this.markRevoked(sessionId);
    return revoked;
  }

  /** Records a revocation (this instance's, or another's by NOTIFY) and tells the listeners once. */
  markRevoked(sessionId: string): void {
    if (this.#revoked.has(sessionId)) return;
    this.#revoked.add(sessionId);
    for (const listener of this.#listeners) listener(sessionId);
  }

  /**
   * Reads every revoked, unended session again: on start, after a gap in LISTEN, and now and
   * then, which also forgets sessions that have ended (their tokens are expired anyway).
   */
  async reload(): Promise<void> {
    const before = new Set(this.#revoked);
    const live = new Set(await readRevokedSessionIds(this.#db));
    // Only ids known before the read may be forgotten: one a NOTIFY added meanwhile is kept.
    for (const id of before) if (!live.has(id)) this.#revoked.delete(id);
    for (const id of live) this.markRevoked(id);
  }

  /** Calls `listener` with the id of each session revoked from now on. @returns an unsubscribe. */
  onRevoked(listener: (sessionId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
