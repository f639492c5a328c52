import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { chats, messages, syncAccounts, syncRuns } from '../../../drizzle/schema.js';
import type { ChatRecord } from '../../db/chats.js';
import type { Executor, Tx } from '../../db/database.js';
import { queryRows } from '../../db/rows.js';

/** A row of `sync_runs`: one backfill of one account over a time window. */
export type SyncRunRecord = typeof syncRuns.$inferSelect;
/** A row of `sync_accounts`: an account's sync lease, watermark and current run. */
export type SyncAccountRecord = typeof syncAccounts.$inferSelect;

/**
 * Takes (or renews) an account's sync lease for `owner`, unless another owner holds a live one.
 * @returns the account's sync row when the lease is now ours, else undefined.
 */
export async function acquireSyncLease(
  db: Executor,
  accountId: string,
  owner: string,
  leaseMs: number,
): Promise<SyncAccountRecord | undefined> {
  const until = sql`now() + ${`${leaseMs} milliseconds`}::interval`;
  const [row] = await db
    .insert(syncAccounts)
    .values({ accountId, leaseOwner: owner, leaseUntil: until })
    .onConflictDoUpdate({
      target: syncAccounts.accountId,
      set: { leaseOwner: owner, leaseUntil: until, updatedAt: sql`now()` },
      setWhere: or(
        isNull(syncAccounts.leaseUntil),
        lt(syncAccounts.leaseUntil, sql`now()`),
        eq(syncAccounts.leaseOwner, owner),
      ),
    })
    .returning();
  return row;
}

/** Lets the lease go, if `owner` still holds it. */
export async function releaseSyncLease(db: Executor, accountId: string, owner: string): Promise<void> {
  await db
    .update(syncAccounts)
    .set({ leaseOwner: null, leaseUntil: null, updatedAt: sql`now()` })
    .where(and(eq(syncAccounts.accountId, accountId), eq(syncAccounts.leaseOwner, owner)));
}

/** An account's sync row, or undefined when it was never synced. */
export async function findSyncAccount(
  db: Executor,
  accountId: string,
): Promise<SyncAccountRecord | undefined> {
  const [row] = await db.select().from(syncAccounts).where(eq(syncAccounts.accountId, accountId));
  return row;
}

/** Every account ever synced, with its run in progress or last run. */
export async function listSyncAccounts(
  db: Executor,
): Promise<{ account: SyncAccountRecord; run: SyncRunRecord | null }[]> {
  const rows = await db
    .select({ account: syncAccounts, run: syncRuns })
    .from(syncAccounts)
    .leftJoin(syncRuns, eq(syncRuns.id, syncAccounts.runId))
    .orderBy(syncAccounts.accountId);
  return rows;
}

/** Records a new run and makes it the account's current one (the caller holds the lease). */
export async function createSyncRun(
  db: Executor,
  run: Pick<SyncRunRecord, 'id' | 'groupId' | 'accountId' | 'trigger' | 'windowFrom' | 'windowTo'>,
): Promise<SyncRunRecord> {
  const [row] = await db
    .insert(syncRuns)
    .values({ ...run, status: 'running' })
    .returning();
  await db
    .update(syncAccounts)
    .set({ runId: run.id, updatedAt: sql`now()` })
    .where(eq(syncAccounts.accountId, run.accountId));
  return row!;
}

/** One sync run by id, or undefined. */
export async function findSyncRun(db: Executor, id: string): Promise<SyncRunRecord | undefined> {
  const [row] = await db.select().from(syncRuns).where(eq(syncRuns.id, id));
  return row;
}

/** Counts a run already under way into a request for every account, unless another request has it. */
export async function joinSyncGroup(db: Executor, runId: string, groupId: string): Promise<void> {
  await db
    .update(syncRuns)
    .set({ groupId })
    .where(and(eq(syncRuns.id, runId), isNull(syncRuns.groupId)));
}

/** The runs of one sync request for every account, by account id. */
export function findSyncRunsOfGroup(db: Executor, groupId: string): Promise<SyncRunRecord[]> {
  return db.select().from(syncRuns).where(eq(syncRuns.groupId, groupId)).orderBy(syncRuns.accountId);
}

/** What one committed page adds to its run. */
export interface PageProgress {
  cursor: string | null;
  messages: number;
  newMessages: number;
  duplicates: number;
  updated: number;
  /** Items kept as rejected bodies instead of stored. Default 0. */
  skipped?: number;
  oldestSeen: Date | null;
}

/**
 * Moves a run past a page, in the page's own transaction (so a crash resumes exactly after the
 * last committed page), and renews the lease.
 * @returns false when `owner` no longer holds the account's lease: the caller must roll back.
 */
export async function recordPageProgress(
  tx: Tx,
  run: { id: string; accountId: string; owner: string; leaseMs: number },
  page: PageProgress,
): Promise<boolean> {
  const leased = await tx
    .update(syncAccounts)
    .set({ leaseUntil: sql`now() + ${`${run.leaseMs} milliseconds`}::interval`, updatedAt: sql`now()` })
    .where(and(eq(syncAccounts.accountId, run.accountId), eq(syncAccounts.leaseOwner, run.owner)))
    .returning({ accountId: syncAccounts.accountId });
  if (leased.length === 0) return false;
  await tx
    .update(syncRuns)
    .set({
      cursor: page.cursor,
      pages: sql`${syncRuns.pages} + 1`,
      messages: sql`${syncRuns.messages} + ${page.messages}`,
      newMessages: sql`${syncRuns.newMessages} + ${page.newMessages}`,
      duplicates: sql`${syncRuns.duplicates} + ${page.duplicates}`,
      updated: sql`${syncRuns.updated} + ${page.updated}`,
      skipped: sql`${syncRuns.skipped} + ${page.skipped ?? 0}`,
      ...(page.oldestSeen ? { oldestSeen: page.oldestSeen } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(syncRuns.id, run.id));
  return true;
}

/**
 * Ends a run. A completed run moves the account's watermark to its window's end when the window
 * started at or before the watermark (no gap); a failed one leaves the watermark alone.
 */
export async function finishSyncRun(db: Executor, run: SyncRunRecord, error?: unknown): Promise<void> {
  await db
    .update(syncRuns)
    .set({
      status: error === undefined ? 'done' : 'failed',
      error: error ?? null,
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(syncRuns.id, run.id));
  if (error !== undefined) return;
  await db
    .update(syncAccounts)
    .set({ watermark: run.windowTo, updatedAt: sql`now()` })
    .where(
      and(
        eq(syncAccounts.accountId, run.accountId),
        or(
          isNull(syncAccounts.watermark),
          sql`${syncAccounts.watermark} >= ${run.windowFrom.toISOString()}::timestamptz
            and ${syncAccounts.watermark} < ${run.windowTo.toISOString()}::timestamptz`,
        ),
      ),
    );
}

/** The chats of `chatIds` Hookline already has, with their attendees. */
export function knownChats(
  db: Executor,
  accountId: string,
  chatIds: string[],
): Promise<{ id: string; attendees: unknown }[]> {
  if (chatIds.length === 0) return Promise.resolve([]);
  return db
    .select({ id: chats.id, attendees: chats.attendees })
    .from(chats)
    .where(and(eq(chats.accountId, accountId), inArray(chats.id, chatIds)));
}

/** Stored state of messages a sync page names, to tell which REST state is news. */
export function syncedMessageStates(tx: Tx, accountId: string, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return tx
    .select({
      id: messages.id,
      state: messages.state,
      text: messages.text,
      reactions: messages.reactions,
      deletedAt: messages.deletedAt,
      readAt: messages.readAt,
    })
    .from(messages)
    .where(and(eq(messages.accountId, accountId), inArray(messages.id, ids)));
}

/**
 * Takes back the unread a newly stored message added when the provider says the user has already
 * seen it (history read elsewhere does not light up the inbox).
 */
export async function forgiveUnread(tx: Tx, accountId: string, chatId: string, count: number): Promise<void> {
  await tx
    .update(chats)
    .set({ unreadCount: sql`greatest(${chats.unreadCount} - ${count}, 0)`, updatedAt: sql`now()` })
    .where(and(eq(chats.accountId, accountId), eq(chats.id, chatId)));
}

/**
 * Marks newly stored messages the provider says were seen as read at `at`, so the next sync's
 * REST state finds nothing new to apply to them.
 */
export async function markArrivedSeen(tx: Tx, accountId: string, ids: string[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(messages)
    .set({ readAt: at, updatedAt: sql`now()` })
    .where(and(eq(messages.accountId, accountId), inArray(messages.id, ids), isNull(messages.readAt)));
}

/** Seconds since the oldest account watermark, or 0 when no account has one yet. */
export async function oldestWatermarkAgeSeconds(db: Executor): Promise<number> {
  const [row] = await queryRows<{ lag: number | null }>(
    db,
    sql`select extract(epoch from now() - min(watermark))::float8 as lag from sync_accounts`,
  );
  return row?.lag ?? 0;
}

/** What the provider says of a chat, for {@link fillChatDetails}. */
export interface ChatDetailsUpdate {
  providerChatId: string | null;
  accountType: string | null;
  subject: string | null;
  isGroup: boolean | null;
  attendees: unknown[];
}

/**
 * Fills in a stored chat from the provider's view of it: its name, kind and attendees replace
 * what the webhooks left empty (a null, or no attendees), and nothing they did carry.
 * @returns the chat as it is now, or undefined when it is not stored (yet).
 */
export async function fillChatDetails(
  db: Executor,
  key: { accountId: string; chatId: string },
  details: ChatDetailsUpdate,
): Promise<ChatRecord | undefined> {
  const attendees = details.attendees.length > 0 ? JSON.stringify(details.attendees) : null;
  const [row] = await db
    .update(chats)
    .set({
      providerChatId: sql`coalesce(${chats.providerChatId}, ${details.providerChatId})`,
      accountType: sql`coalesce(${chats.accountType}, ${details.accountType})`,
      subject: sql`coalesce(${chats.subject}, ${details.subject})`,
      isGroup: sql`coalesce(${chats.isGroup}, ${details.isGroup}::boolean)`,
      attendees: sql`case when ${chats.attendees} is null or ${chats.attendees} = '[]'::jsonb
        then coalesce(${attendees}::jsonb, ${chats.attendees}) else ${chats.attendees} end`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(chats.accountId, key.accountId), eq(chats.id, key.chatId)))
    .returning();
  return row;
}
