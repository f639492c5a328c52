import { hash } from 'node:crypto';
import type { MessageEvent } from './events.js';

/**
 * The key under which a messaging event is stored at most once (DESIGN.md, "Dedupe key"):
 * event + account + message id, plus the reaction and its sender for reactions, and the new text
 * for edits (a message edited twice is two events; the provider's retry of one edit is not).
 * Hashed to a fixed length so the unique index stays small whatever the ids look like.
 */
export function messageDedupeKey(event: MessageEvent): string {
  const parts = [event.event, event.accountId, event.messageId];
  if (event.event === 'message_reaction') {
    parts.push(
      event.reaction?.reaction ?? '',
      event.reaction?.sender?.providerId ?? event.reaction?.sender?.id ?? '',
    );
  }
  if (event.event === 'message_edited') parts.push(event.text ?? '');
  return hash('sha256', parts.join('\u001f'), 'base64url');
}
