import { hash } from 'node:crypto';
import type { MessageEvent } from '../providers/events.js';

/**
 * The key under which a messaging event is stored at most once (docs/ingest.md, "Dedupe"):
 * event + account + message id + the provider's timestamp as milliseconds since the epoch, plus
 * the reaction and its sender for reactions, and the new text for edits. A retry of one delivery
 * has the same key; a new event (👍, removed, 👍 again; an edit A → B → A) has a new timestamp.
 * The parts are encoded as a JSON array, so no two different lists of parts encode alike, then
 * hashed to a fixed length so the unique index stays small whatever the ids look like.
 * Without a timestamp that part is null: such events dedupe as before, by the other parts.
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
