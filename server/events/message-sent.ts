import type { NewMessageData } from './message-new.js';
import { type OwnMessageRow, ownMessageNewData } from './own-message-new.js';

/** How a send was settled as `sent`: the provider's 201, its echo webhook, or a lookup. */
export type SettledBy = 'response' | 'echo' | 'lookup';

/** `data` of `message.sent` (outbound only): the sent message, and what settled it. */
export interface SentMessageData extends NewMessageData {
  settledBy: SettledBy;
}

/** A send settled as `sent`: its message as stored after the settle, and what settled it. */
export type SettledMessageRow = OwnMessageRow & { settledBy: SettledBy };

/** `data` of the `message.sent` subscribers receive once the provider has a sent message. */
export function messageSentData(row: SettledMessageRow): SentMessageData {
  return { ...ownMessageNewData(row), settledBy: row.settledBy };
}
