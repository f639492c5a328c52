/**
 * What every provider's webhooks and REST pages are normalised to: the provider-neutral events
 * ingest and sync store and apply. A provider folder (providers/<name>/) parses its own payloads
 * into these; nothing above the providers layer sees a provider's wire format.
 */

/** The message events Hookline applies, in the names ingest stores in `inbound_events.event`. */
export const MESSAGE_EVENT_TYPES = [
  'message_received',
  'message_read',
  'message_reaction',
  'message_edited',
  'message_deleted',
  'message_delivered',
] as const;

/** One of MESSAGE_EVENT_TYPES. */
export type MessageEventType = (typeof MESSAGE_EVENT_TYPES)[number];

/** A message's author, in the shape of the realtime envelope (docs/realtime.md). */
export interface Sender {
  id: string | null;
  name: string | null;
  providerId: string | null;
  profileUrl: string | null;
}

/** A message attachment, normalised from the provider's payload. */
export interface Attachment {
  id: string | null;
  type: string | null;
  mimetype: string | null;
  url: string | null;
  filename: string | null;
  fileSize: number | null;
  width: number | null;
  height: number | null;
  sticker: boolean;
  unavailable: boolean;
}

/** A reaction event's value (empty to remove) and who reacted. */
export interface Reaction {
  reaction: string;
  sender: Sender | null;
}

/** A provider messaging event, normalised: what ingest stores and applies. */
export interface MessageEvent {
  kind: 'message';
  event: MessageEventType;
  accountId: string;
  accountType: string | null;
  /** The account's own provider user id (account_info.user_id). */
  accountUserId: string | null;
  chatId: string;
  messageId: string;
  providerChatId: string | null;
  providerMessageId: string | null;
  text: string | null;
  sender: Sender | null;
  /** True when the account itself sent the message (e.g. from another device). */
  isSender: boolean;
  attachments: Attachment[];
  quoted: unknown;
  isGroup: boolean | null;
  subject: string | null;
  attendees: Sender[];
  reaction: Reaction | null;
  /** When the provider says it happened; null when the timestamp is missing or unreadable. */
  occurredAt: Date | null;
  /**
   * The provider's timestamp for the dedupe identity: `occurredAt` in milliseconds since the
   * epoch, the value as sent when it is unreadable, null when there is none.
   */
  providerTime: unknown;
  /** Provider fields Hookline does not model, kept verbatim. */
  extra: Record<string, unknown> | null;
}

/** A provider account's status change (connected, credentials needed, …). */
export interface AccountStatusEvent {
  kind: 'account_status';
  accountId: string;
  accountType: string | null;
  status: string;
}

/** Every event a provider's webhook normalises to. */
export type IngestEvent = MessageEvent | AccountStatusEvent;
