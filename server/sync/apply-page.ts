import type { Db, Tx } from '../db/database.js';
import { transaction, withConflictRetry } from '../db/transaction.js';
import { HooklineError } from '../errors.js';
import { Envelopes, newMessageData, type Published } from '../events/index.js';
import { applyFollowUp, type IngestItem, messageDedupeKey, store } from '../ingest/index.js';
import { publish } from '../outbound/index.js';
import type { MessageEvent } from '../providers/events.js';
import { type RestState, UNIPILE_PROVIDER } from '../providers/unipile/index.js';
import type { SkippedItem, SyncedMessage } from './normalize-page.js';
import {
  forgiveUnread,
  markArrivedSeen,
  type PageProgress,
  recordPageProgress,
  syncedMessageStates,
} from './queries/sync.js';

/** Where a page's progress goes, and who must still hold the account's lease. */
export interface PageRun {
  id: string;
  accountId: string;
  owner: string;
  leaseMs: number;
}

/** What committing one sync page did: message counts for the run, and what it owes the outboxes. */
export interface AppliedPage extends Published {
  newMessages: number;
  duplicates: number;
  updated: number;
  /** Items kept as rejected bodies instead of stored (normalizePage). */
  skipped: number;
}

/** One page: its messages to store, and the items it skips, kept for inspection. */
export interface SyncPage {
  messages: SyncedMessage[];
  skipped: readonly SkippedItem[];
}

/**
 * Applies one page of REST messages through ingest's store and outbound's publish,
 * with the run's progress, in one transaction: messages Hookline lacks are stored and published
 * (`origin: "sync"`), stored as read and their unread taken back when the provider says they
 * were seen; REST state of messages already stored (edit, deletion, reactions, seen) is applied
 * as follow-ups under later-wins, timed at `fetchedAt`. Throws `HL_ERR_CONFLICT` when the lease was lost.
 */
export async function applySyncPage(
  db: Db,
  run: PageRun,
  page: SyncPage,
  progress: Omit<PageProgress, 'newMessages' | 'duplicates' | 'updated' | 'messages' | 'skipped'>,
  fetchedAt: Date,
): Promise<AppliedPage> {
  return withConflictRetry(() =>
    transaction(db, (tx) => applyInTransaction(tx, run, page, progress, fetchedAt)),
  );
}

async function applyInTransaction(
  tx: Tx,
  run: PageRun,
  { messages, skipped }: SyncPage,
  progress: Omit<PageProgress, 'newMessages' | 'duplicates' | 'updated' | 'messages' | 'skipped'>,
  fetchedAt: Date,
): Promise<AppliedPage> {
  const { stored } = await store(tx, pageItems(run.accountId, messages, skipped), {
    provider: UNIPILE_PROVIDER,
    receivedAt: fetchedAt,
  });

  const envelopes = new Envelopes();
  const fresh = new Set(stored.map((message) => message.id));
  const seenUnread = new Map<string, number>();
  const seenIds: string[] = [];
  for (const message of stored) {
    envelopes.add('message:new', message.accountId, { ...newMessageData(message), origin: 'sync' });
  }
  for (const message of messages) {
    if (!fresh.has(message.event.messageId) || !message.state.seen) continue;
    seenIds.push(message.event.messageId);
    if (message.event.isSender) continue;
    seenUnread.set(message.event.chatId, (seenUnread.get(message.event.chatId) ?? 0) + 1);
  }
  for (const [chatId, count] of seenUnread) await forgiveUnread(tx, run.accountId, chatId, count);
  await markArrivedSeen(tx, run.accountId, seenIds, fetchedAt);

  const updated = await applyRestState(tx, messages, fresh, fetchedAt, envelopes);
  const duplicates = messages.length - fresh.size;
  const kept = await recordPageProgress(tx, run, {
    ...progress,
    messages: messages.length,
    newMessages: fresh.size,
    duplicates,
    updated,
    skipped: skipped.length,
  });
  if (!kept) throw new HooklineError('HL_ERR_CONFLICT', 'Another instance took over this account sync');
  return {
    newMessages: fresh.size,
    duplicates,
    updated,
    skipped: skipped.length,
    ...(await publish(tx, envelopes)),
  };
}

/**
 * A page as ingest's store takes it: each message a `message_received` under its webhook's dedupe
 * key (so a message a webhook stored is a duplicate), each skipped item a rejected body.
 */
function pageItems(
  accountId: string,
  messages: SyncedMessage[],
  skipped: readonly SkippedItem[],
): IngestItem[] {
  const accepted = messages.map(
    (message): IngestItem => ({
      outcome: 'accepted',
      rawBody: message.rawBody,
      event: message.event,
      dedupeKey: messageDedupeKey(message.event),
    }),
  );
  const rejected = skipped.map(
    (item): IngestItem => ({
      outcome: 'rejected',
      rawBody: item.rawBody,
      eventName: 'message_received',
      accountId,
      error: { code: 'HL_ERR_INVALID_PAYLOAD', reason: `sync: ${item.reason}` },
    }),
  );
  return [...accepted, ...rejected];
}

interface StoredReaction {
  reaction?: string;
  senderKey?: string;
}

/** Follow-up events for what the REST state says and the stored message does not show yet. */
async function applyRestState(
  tx: Tx,
  messages: SyncedMessage[],
  fresh: Set<string>,
  at: Date,
  envelopes: Envelopes,
): Promise<number> {
  const accountId = messages[0]?.event.accountId;
  if (!accountId) return 0;
  const rows = new Map(
    (
      await syncedMessageStates(
        tx,
        accountId,
        messages.map((message) => message.event.messageId),
      )
    ).map((row) => [row.id, row]),
  );
  let updated = 0;
  for (const { event, state } of messages) {
    const row = rows.get(event.messageId);
    if (row?.state !== 'received') continue;
    const followUps: MessageEvent[] = [];
    const base = { ...event, occurredAt: at, providerTime: at.getTime() };
    if (state.deleted && row.deletedAt === null) followUps.push({ ...base, event: 'message_deleted' });
    else if (!state.deleted && state.edited && row.deletedAt === null && row.text !== event.text) {
      followUps.push({ ...base, event: 'message_edited' });
    }
    if (state.seen && row.readAt === null && !fresh.has(event.messageId)) {
      followUps.push({ ...base, event: 'message_read' });
    }
    const current = new Map(
      (Array.isArray(row.reactions) ? (row.reactions as StoredReaction[]) : []).map((reaction) => [
        reaction.senderKey ?? '',
        reaction.reaction ?? '',
      ]),
    );
    const senders = new Set([...current.keys(), ...state.reactions.keys()]);
    for (const senderKey of senders) {
      const value = state.reactions.get(senderKey) ?? '';
      if ((current.get(senderKey) ?? '') === value) continue;
      const sender = { id: null, name: null, providerId: senderKey, profileUrl: null };
      followUps.push({ ...base, event: 'message_reaction', reaction: { reaction: value, sender } });
    }
    for (const followUp of followUps) await applyFollowUp(tx, followUp, envelopes);
    if (followUps.length > 0) updated++;
  }
  return updated;
}
