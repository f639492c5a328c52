import { isStorableDate } from '../../shared/storable.js';
import type { Attachment, IngestEvent, MessageEvent, Sender } from '../events.js';
import type {
  AccountStatusWebhook,
  MessagingWebhook,
  RawAttachment,
  UnipileWebhook,
} from './webhook-schema.js';

type Attendee = NonNullable<MessagingWebhook['sender']>;

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

/** An attachment as the realtime envelope carries it, from any shape the provider sends. */
export function toAttachment(raw: RawAttachment): Attachment {
  // `size` is the documented { width, height }, or in some integrations the size in bytes.
  const dimensions = typeof raw.size === 'object' ? raw.size : null;
  const bytes = typeof raw.size === 'number' ? raw.size : null;
  return {
    id: orNull(raw.id),
    type: orNull(raw.type),
    mimetype: orNull(raw.mimetype ?? raw.mime_type),
    url: orNull(raw.url),
    filename: orNull(raw.filename ?? raw.file_name),
    fileSize: orNull(raw.file_size ?? bytes),
    width: orNull(dimensions?.width),
    height: orNull(dimensions?.height),
    sticker: raw.sticker ?? false,
    unavailable: raw.unavailable ?? false,
  };
}

function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string' || value === '') return null;
  const time = new Date(value);
  // A time Postgres cannot store (year 0, +275760) is as unreadable as garbage: receive time is used.
  return isStorableDate(time) ? time : null;
}

function extraFields(payload: Record<string, unknown>): Record<string, unknown> | null {
  const extra = Object.fromEntries(Object.entries(payload).filter(([key]) => !MODELLED_FIELDS.has(key)));
  return Object.keys(extra).length > 0 ? extra : null;
}

const digits = (value: string) => value.replace(/\D/g, '');

/**
 * Whether the account itself sent the message (from another device, or an echo of its own send),
 * by the first rule that applies:
 * 1. top-level `is_sender`, when present;
 * 2. the sender's provider id equals `account_info.user_id`;
 * 3. WhatsApp: the digits before `@` in the sender's provider id equal the digits of
 *    `account_info.phone_number`.
 */
export function isAccountSender(payload: MessagingWebhook, sender: Sender | null): boolean {
  if (payload.is_sender != null) return payload.is_sender;
  const providerId = sender?.providerId;
  if (!providerId) return false;
  const userId = payload.account_info?.user_id;
  if (userId && providerId === userId) return true;
  const phone = digits(payload.account_info?.phone_number ?? '');
  const accountType = (payload.account_type ?? payload.account_info?.type ?? '').toUpperCase();
  const whatsapp = accountType === 'WHATSAPP' || providerId.endsWith('@s.whatsapp.net');
  return whatsapp && phone !== '' && digits(providerId.split('@')[0]!) === phone;
}

function normalizeMessaging(payload: MessagingWebhook): MessageEvent {
  const sender = toSender(payload.sender);
  const occurredAt = parseTime(payload.timestamp);
  return {
    kind: 'message',
    event: payload.event,
    accountId: payload.account_id,
    accountType: orNull(payload.account_type ?? payload.account_info?.type),
    accountUserId: orNull(payload.account_info?.user_id),
    chatId: payload.chat_id,
    messageId: payload.message_id,
    providerChatId: orNull(payload.provider_chat_id),
    providerMessageId: orNull(payload.provider_message_id),
    text: orNull(payload.message),
    sender,
    isSender: isAccountSender(payload, sender),
    attachments: payload.attachments.map(toAttachment),
    quoted: orNull(payload.quoted),
    isGroup: orNull(payload.is_group),
    subject: orNull(payload.subject),
    attendees: (payload.attendees ?? []).map(toSender).filter((attendee) => attendee !== null),
    reaction:
      payload.event === 'message_reaction'
        ? { reaction: payload.reaction ?? '', sender: toSender(payload.reaction_sender) }
        : null,
    occurredAt,
    // An unreadable timestamp still tells one delivery from another: it is kept as sent.
    providerTime: occurredAt ? occurredAt.getTime() : (orNull(payload.timestamp) as unknown),
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

/** Maps a validated Unipile webhook Hookline handles onto its provider-independent event. */
export function normalizeUnipileWebhook(webhook: Exclude<UnipileWebhook, { kind: 'ignored' }>): IngestEvent {
  return webhook.kind === 'messaging'
    ? normalizeMessaging(webhook.payload)
    : normalizeAccountStatus(webhook.payload);
}
