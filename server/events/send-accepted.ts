import type { NewMessageData } from './message-new.js';
import { type OwnMessageRow, ownMessageNewData } from './own-message-new.js';

/**
 * The HTTP 202 body of an accepted send and of a re-queued one (docs/sending.md): the stored,
 * pending message, shaped like the `data` of its `message:new`. A replayed `Idempotency-Key`
 * answers with the body stored when the key was first used.
 */
export type SendAccepted = NewMessageData;

/** The 202 body for a stored, pending message sent through Hookline. */
export function sendAccepted(message: OwnMessageRow): SendAccepted {
  return ownMessageNewData(message);
}
