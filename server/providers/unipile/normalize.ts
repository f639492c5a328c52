import type { Attachment, IngestEvent, MessageEvent, Sender } from '../../ingest/events.js';
import { isStorableDate } from '../../storable.js';
import type { AccountStatusWebhook, MessagingWebhook, UnipileWebhook } from './webhook-schema.js';

type Attendee = NonNullable<MessagingWebhook['sender']>;
type RawAttachment = MessagingWebhook['attachments'][number];

/** Fields the normalised event models; everything else in a payload is kept in `extra`. */
const MODELLED_FIELDS = new Set([
  'event',
  'account_id',
  'account_type',
  'account_info',
  'chat_id',
  'message_id',
  'timestamp',
  'webhook_name',
  'message',
  'sender',
  'attendees',
  'attachments',
  'reaction',
  'reaction_sender',
  'provider_chat_id',
  'provider_message_id',
  'quoted',
  'is_group',
  'subject',
]);

const orNull = <T>(value: T | null | undefined): T | null => value ?? null;

function toSender(attendee: Attendee | null | undefined): Sender | null {
  if (!attendee) return null;
  return {
    id: orNull(attendee.attendee_id),
    name: orNull(attendee.attendee_name),
    providerId: orNull(attendee.attendee_provider_id),
    profileUrl: attendee.attendee_profile_url ? attendee.attendee_profile_url : null,
  };
}

function toAttachment(raw: RawAttachment): Attachment {
  return {
    id: orNull(raw.id),
    type: orNull(raw.type),
    mimetype: orNull(raw.mimetype),
    url: orNull(raw.url),
    filename: orNull(raw.filename),
    fileSize: orNull(raw.file_size),
    width: orNull(raw.size?.width),
    height: orNull(raw.size?.height),
    sticker: raw.sticker ?? false,
    unavailable: raw.unavailable ?? false,
  };
}

function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null;
  const time = new Date(value);
  // A time Postgres cannot store (year 0, +275760) is as unreadable as garbage: receive time is used.
  return isStorableDate(time) ? time : null;
}

function extraFields(payload: Record<string, unknown>): Record<string, unknown> | null {
  const extra = Object.fromEntries(Object.entries(payload).filter(([key]) => !MODELLED_FIELDS.has(key)));
  return Object.keys(extra).length > 0 ? extra : null;
}

function normalizeMessaging(payload: MessagingWebhook): MessageEvent {
  const sender = toSender(payload.sender);
  const accountUserId = orNull(payload.account_info?.user_id);
  return {
    kind: 'message',
    event: payload.event,
    accountId: payload.account_id,
    accountType: orNull(payload.account_type ?? payload.account_info?.type),
    accountUserId,
    chatId: payload.chat_id,
    messageId: payload.message_id,
    providerChatId: orNull(payload.provider_chat_id),
    providerMessageId: orNull(payload.provider_message_id),
    text: orNull(payload.message),
    sender,
    // The account's own messages sent from another device also arrive as message_received.
    isSender: accountUserId !== null && sender?.providerId === accountUserId,
    attachments: payload.attachments.map(toAttachment),
    quoted: orNull(payload.quoted),
    isGroup: orNull(payload.is_group),
    subject: orNull(payload.subject),
    attendees: (payload.attendees ?? []).map(toSender).filter((attendee) => attendee !== null),
    reaction:
      payload.event === 'message_reaction'
        ? { reaction: payload.reaction ?? '', sender: toSender(payload.reaction_sender) }
        : null,
    occurredAt: parseTime(payload.timestamp),
    extra: extraFields(payload),
  };
}

function normalizeAccountStatus(payload: AccountStatusWebhook): IngestEvent {
  return {
    kind: 'account_status',
    accountId: payload.AccountStatus.account_id,
    accountType: orNull(payload.AccountStatus.account_type),
    status: payload.AccountStatus.message,
  };
}

/** Maps a validated Unipile webhook onto Hookline's provider-independent event. */
export function normalizeUnipileWebhook(webhook: UnipileWebhook): IngestEvent {
  return webhook.kind === 'messaging'
    ? normalizeMessaging(webhook.payload)
    : normalizeAccountStatus(webhook.payload);
}
