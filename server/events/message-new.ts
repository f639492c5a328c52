import type { Sender } from '../providers/events.js';
import { iso, listOf } from './json-values.js';

/*
 * `message:new` (socket) and `message.received` (webhook): one `data`, rendered here from the
 * message as stored (ingest's store statement returns these columns; send reads whole rows).
 */

/** Status of a message sent through Hookline (docs/sending.md). */
export type SendStatus = 'pending' | 'sent' | 'failed' | 'unknown';

/** `data` of `message:new` / `message.received`. */
export interface NewMessageData {
  accountId: string;
  chatId: string;
  /** Null for a message sent through Hookline until the provider's id is known. */
  messageId: string | null;
  /** Set on a message sent through Hookline (see sendFields). */
  localId?: string;
  status?: SendStatus;
  text: string | null;
  sender: Sender | null;
  isSender: boolean;
  attachments: unknown[];
  sentAt: string | null;
  /** Present when an edit or deletion arrived before the message itself (docs/ingest.md). */
  editedAt?: string | null;
  deletedAt?: string | null;
  /** `sync` on a message catch-up sync found (docs/sync.md); absent for webhooks. */
  origin?: 'sync';
}

/** The columns of a stored message its `message:new` shows, as a query returns them. */
export interface NewMessageRow {
  accountId: string;
  chatId: string;
  id: string;
  text: string | null;
  sender: unknown;
  isSender: boolean | null;
  attachments: unknown;
  sentAt: Date | null;
  editedAt: Date | null;
  deletedAt: Date | null;
}

/**
 * `data` of `message:new` and `message.received`: editedAt and deletedAt appear only when set
 * (an edit or deletion that arrived before the message), times are ISO 8601 in UTC.
 */
export function newMessageData(message: NewMessageRow): NewMessageData {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    text: message.text,
    // jsonb reads back as unknown; it holds what ingest wrote from a normalised event.
    sender: (message.sender ?? null) as Sender | null,
    isSender: message.isSender ?? false,
    attachments: listOf(message.attachments),
    sentAt: iso(message.sentAt),
    ...(message.editedAt ? { editedAt: iso(message.editedAt) } : {}),
    ...(message.deletedAt ? { deletedAt: iso(message.deletedAt) } : {}),
  };
}
