import { sql } from 'drizzle-orm';
import { loginCodes, realtimeSessions } from '../../../drizzle/schema.js';
import type { Executor } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';

/** Channel of session revocations: the payload is the revoked session's id. */
export const SESSIONS_CHANNEL = 'hookline_sessions';

/** A realtime session as stored. `accountIds` null: every account. */
export interface SessionRecord {
  id: string;
  accountIds: string[] | null;
  scopes: string[];
  origin: 'api' | 'login';
  createdAt: Date;
  expiresAt: Date;
}

/** Stores a new session. */
export async function insertRealtimeSession(
  executor: Executor,
  session: Omit<SessionRecord, 'createdAt'>,
): Promise<void> {
  await executor.insert(realtimeSessions).values(session);
}

/**
 * Revokes a live session and tells every instance (NOTIFY on {@link SESSIONS_CHANNEL}, sent when
 * the statement commits). Revoking a session twice changes nothing and still notifies.
 * @returns whether a session of that id exists and has not ended.
 */
export async function revokeRealtimeSession(executor: Executor, id: string): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    executor,
    sql`with revoked as (
        update realtime_sessions set revoked_at = coalesce(revoked_at, now())
        where id = ${id} and expires_at > now()
        returning id
      )
      select id, pg_notify(${SESSIONS_CHANNEL}, id) from revoked`,
  );
  return rows.length > 0;
}

/** Ids of the revoked sessions that have not ended yet: their tokens could still verify. */
export async function readRevokedSessionIds(executor: Executor): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    executor,
    sql`select id from realtime_sessions where revoked_at is not null and expires_at > now()`,
  );
  return rows.map((row) => row.id);
}

/**
 * Live sessions (not revoked, not ended), newest first, at most `limit`; with `accountId`, those
 * that cover it (all-accounts sessions included).
 */
export async function listLiveSessions(
  executor: Executor,
  accountId: string | undefined,
  limit: number,
): Promise<SessionRecord[]> {
  return queryRows<SessionRecord>(
    executor,
    sql`select id, account_ids as "accountIds", scopes, origin, created_at as "createdAt",
        expires_at as "expiresAt"
      from realtime_sessions
      where revoked_at is null and expires_at > now()
        ${accountId === undefined ? sql`` : sql`and (account_ids is null or ${accountId} = any(account_ids))`}
      order by created_at desc, id
      limit ${limit}::int`,
  );
}

/** Stores a single-use login code by its hash. */
export async function insertLoginCode(executor: Executor, codeHash: string, expiresAt: Date): Promise<void> {
  await executor.insert(loginCodes).values({ codeHash, expiresAt });
}

/**
 * Uses a login code once: `ok` the first time within its validity; `used` or `expired` after,
 * `unknown` for a code never issued (or pruned).
 */
export async function useLoginCode(
  executor: Executor,
  codeHash: string,
): Promise<'ok' | 'used' | 'expired' | 'unknown'> {
  const [row] = await queryRows<{ outcome: 'ok' | 'used' | 'expired' }>(
    executor,
    sql`with taken as (
        update login_codes set used_at = now()
        where code_hash = ${codeHash} and used_at is null and expires_at > now()
        returning 1
      )
      select case when exists (select from taken) then 'ok'
          when used_at is not null then 'used' else 'expired' end as outcome
      from login_codes where code_hash = ${codeHash}`,
  );
  return row?.outcome ?? 'unknown';
}

/**
 * Deletes sessions and login codes that ended more than a day ago (the day keeps a revoked or
 * used one answering `revoked`/`used` instead of `unknown` for a while).
 */
export async function pruneEndedSessions(executor: Executor): Promise<void> {
  await executor.execute(sql`delete from realtime_sessions where expires_at < now() - interval '1 day'`);
  await executor.execute(sql`delete from login_codes where expires_at < now() - interval '1 day'`);
}
