import { hash } from 'node:crypto';
import type { MessageEvent } from '../providers/events.js';
import { acceptedMessage, type IngestItem, type ItemResult } from './items.js';

/*
 * The dedupe rule, said once (docs/ingest.md, "Dedupe"). Postgres only enforces its two unique
 * keys: `inbound_events.dedupe_key` (a body whose key is stored is not recorded again) and
 * `messages (account_id, id)` (a message is stored once). This module decides what a repeat is:
 * - a messaging event's key is messageDedupeKey; an account status has none (apply-account-status.ts
 *   calls a repeat of the current status, seen recently, a duplicate);
 * - within a batch, the second of two items with one key, or the second `message_received` of one
 *   message, is a duplicate before the database is asked (the store would refuse it anyway);
 * - after the store, a message event whose key the store did not record is a duplicate, and so is
 *   a `message_received` whose key was recorded but whose message was already stored (under
 *   another key: a retry straddling an upgrade of the key, a REST copy of a webhook's message).
 */

/**
 * The key under which a messaging event is stored at most once: event + account + message id +
 * the provider's timestamp as milliseconds since the epoch, plus the reaction and its sender for
 * reactions, and the new text for edits. A retry of one delivery has the same key; a new event
 * (👍, removed, 👍 again; an edit A → B → A) has a new timestamp. The parts are encoded as a JSON
 * array, so no two different lists of parts encode alike, then hashed to a fixed length so the
 * unique index stays small whatever the ids look like. Without a timestamp that part is null:
 * such events dedupe as before, by the other parts.
 */
export function messageDedupeKey(event: MessageEvent): string {
  const parts: unknown[] = [event.event, event.accountId, event.messageId, event.providerTime ?? null];
  if (event.event === 'message_reaction') {
    parts.push(
      event.reaction?.reaction ?? '',
      event.reaction?.sender?.providerId ?? event.reaction?.sender?.id ?? '',
    );
  }
  if (event.event === 'message_edited') parts.push(event.text ?? '');
  return hash('sha256', JSON.stringify(parts), 'base64url');
}

/**
 * Results known before the database is asked: rejected and ignored bodies, and repeats within the
 * batch: the same event twice, or a second `message_received` for one message (under another key),
 * which the database would refuse to store twice.
 */
export function repeatsInBatch(items: readonly IngestItem[]): ItemResult[] {
  const results: ItemResult[] = items.map((item) =>
    item.outcome === 'accepted' ? 'accepted' : item.outcome,
  );
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (item.outcome !== 'accepted' || item.dedupeKey === null) return;
    const message =
      item.event.kind === 'message' && item.event.event === 'message_received'
        ? JSON.stringify([item.event.accountId, item.event.messageId])
        : null;
    if (seen.has(item.dedupeKey) || (message !== null && seen.has(message))) {
      results[index] = 'duplicate';
      return;
    }
    seen.add(item.dedupeKey);
    if (message !== null) seen.add(message);
  });
  return results;
}

/**
 * The keys the store recorded, less those of `message_received` events whose message it did not
 * store (already there under another key): the keys of the events that were new.
 */
export function newKeys(recorded: readonly { dedupeKey: string; stored: boolean; received: boolean }[]) {
  return new Set(recorded.filter((row) => row.stored || !row.received).map((row) => row.dedupeKey));
}

/**
 * Marks each message event whose key is not among `fresh` (see newKeys) as a duplicate.
 * @returns the message events that were new, in arrival order.
 */
export function markRepeats(
  items: readonly IngestItem[],
  results: ItemResult[],
  fresh: ReadonlySet<string>,
): MessageEvent[] {
  const events: MessageEvent[] = [];
  items.forEach((item, index) => {
    const message = acceptedMessage(item, results[index]);
    if (!message) return;
    if (message.dedupeKey !== null && !fresh.has(message.dedupeKey)) results[index] = 'duplicate';
    else events.push(message.event);
  });
  return events;
}
