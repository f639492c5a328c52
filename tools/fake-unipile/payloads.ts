import { randomUUID } from 'node:crypto';
import { MESSAGE_EVENT_TYPES } from '../../server/providers/events.js';
import { ACCOUNT_STATUS_MESSAGES } from '../../server/providers/unipile/webhook-schema.js';

/**
 * Realistic Unipile (API v1) webhook bodies, for the fake provider, tests and benchmarks. Shapes
 * follow Unipile's documentation and what real receivers see: the documented form and the real
 * variants (attachments as an array with numbers, `is_group` as 0/1, `folder` as an array).
 */

/** The event types Unipile sends, as the gateway's schema accepts them. */
export const MESSAGING_EVENTS = MESSAGE_EVENT_TYPES;
/** One of {@link MESSAGING_EVENTS}. */
export type MessagingEvent = (typeof MESSAGING_EVENTS)[number];

/** The account status messages Unipile sends, as the gateway's schema lists them. */
export const ACCOUNT_STATUSES = ACCOUNT_STATUS_MESSAGES;
/** One of {@link ACCOUNT_STATUSES}. */
export type AccountStatusMessage = (typeof ACCOUNT_STATUSES)[number];

/** A chat attendee or sender as messaging webhooks carry it. */
export interface UnipileAttendee {
  attendee_id: string;
  attendee_name: string;
  attendee_provider_id: string;
  attendee_profile_url?: string;
}

/** A messaging webhook body; index signature because real payloads carry more than we model. */
export interface UnipileMessagingPayload {
  event: MessagingEvent;
  account_id: string;
  account_type: string;
  account_info: { type: string; feature: string; user_id?: string; phone_number?: string };
  chat_id: string;
  timestamp: string;
  webhook_name: string;
  message_id: string;
  message: string | null;
  sender: UnipileAttendee;
  attendees: UnipileAttendee[];
  attachments: unknown;
  [field: string]: unknown;
}

/** An account status webhook body. */
export interface UnipileAccountStatusPayload {
  AccountStatus: { account_id: string; account_type: string; message: AccountStatusMessage };
}

/** The account a fake conversation happens on; `userId` is the account's own provider id. */
export interface FakeAccount {
  id: string;
  type: 'WHATSAPP' | 'LINKEDIN' | 'INSTAGRAM' | 'TELEGRAM';
  userId: string;
}

const shortId = () => randomUUID().replace(/-/g, '').slice(0, 22);

/** A fake account of the given network (default WhatsApp), with a user id in that network's format. */
export function fakeAccount(type: FakeAccount['type'] = 'WHATSAPP', id = `acc_${shortId()}`): FakeAccount {
  const userId =
    type === 'WHATSAPP' ? `3361${Math.floor(Math.random() * 1e7)}@s.whatsapp.net` : `ACoAA${shortId()}`;
  return { id, type, userId };
}

/** A fake chat attendee of the given network (default WhatsApp), with a provider id in its format. */
export function fakeAttendee(type: FakeAccount['type'] = 'WHATSAPP', name = 'Ada Lovelace'): UnipileAttendee {
  const providerId =
    type === 'WHATSAPP' ? `3362${Math.floor(Math.random() * 1e7)}@s.whatsapp.net` : `ACoAB${shortId()}`;
  return {
    attendee_id: shortId(),
    attendee_name: name,
    attendee_provider_id: providerId,
    attendee_profile_url: type === 'LINKEDIN' ? `https://www.linkedin.com/in/${providerId}` : '',
  };
}

/** What an attachment is, for {@link fakeAttachment}; default a 48 KB photo.jpg. */
export interface AttachmentOptions {
  id?: string;
  type?: 'img' | 'video' | 'audio' | 'file';
  filename?: string;
  mimetype?: string;
  bytes?: number;
}

/** The attachment shape real payloads carry (an array element with numbers and booleans). */
export function fakeAttachment(options: AttachmentOptions = {}): Record<string, unknown> {
  const id = options.id ?? shortId();
  const type = options.type ?? 'img';
  return {
    id,
    type,
    mimetype: options.mimetype ?? 'image/jpeg',
    url: `att://${id}`,
    filename: options.filename ?? 'photo.jpg',
    file_size: options.bytes ?? 48213,
    ...(type === 'img' || type === 'video' ? { size: { height: 1280, width: 960 } } : {}),
    ...(type === 'audio' || type === 'video' ? { duration: 14 } : {}),
    sticker: false,
    unavailable: false,
  };
}

/** What a fake message body is built from; absent ids are generated, an absent account or sender made up. */
export interface MessagePayloadOptions {
  account?: FakeAccount;
  chatId?: string;
  messageId?: string;
  text?: string;
  sender?: UnipileAttendee;
  /** The account's own user sent it (from another device): sender is the account's user id. */
  fromAccount?: boolean;
  timestamp?: Date;
  attachments?: unknown;
  /** Everyone in the chat but the account's user. Default: the sender (or one other person). */
  attendees?: UnipileAttendee[];
  /** A group chat's name; it makes the chat a group (`is_group: 1`). */
  subject?: string;
}

/** A `message_received` body in the shape real receivers see. */
export function messageReceived(options: MessagePayloadOptions = {}): UnipileMessagingPayload {
  const account = options.account ?? fakeAccount();
  const other = options.sender ?? fakeAttendee(account.type);
  const self: UnipileAttendee = {
    attendee_id: `self_${account.id}`,
    attendee_name: 'Me',
    attendee_provider_id: account.userId,
  };
  const sender = options.fromAccount ? self : other;
  const messageId = options.messageId ?? `msg_${shortId()}`;
  const chatId = options.chatId ?? `chat_${shortId()}`;
  return {
    account_id: account.id,
    account_type: account.type,
    account_info: { type: account.type, feature: 'organization', user_id: account.userId },
    event: 'message_received',
    chat_id: chatId,
    timestamp: (options.timestamp ?? new Date()).toISOString(),
    webhook_name: 'hookline',
    message_id: messageId,
    message: options.text ?? 'Hello from the fake provider',
    sender,
    attendees: [self, ...(options.attendees ?? [other])],
    attachments: options.attachments ?? [],
    provider_chat_id: `prov_${chatId}`,
    provider_message_id: `prov_${messageId}`,
    is_event: 0,
    quoted: null,
    chat_content_type: null,
    message_type: 'MESSAGE',
    is_group: options.subject ? 1 : 0,
    subject: options.subject ?? null,
    folder: ['INBOX'],
  };
}

/**
 * A live WhatsApp echo of a message the account itself sent from its phone, as real accounts
 * deliver it: top-level `is_sender: true`, and an `account_info` with the phone number but no
 * user id. The sender is the account's own number.
 */
export function ownEcho(options: MessagePayloadOptions = {}): UnipileMessagingPayload {
  const account = options.account ?? fakeAccount('WHATSAPP');
  const number = account.userId.split('@')[0]!;
  const self: UnipileAttendee = {
    attendee_id: `self_${account.id}`,
    attendee_name: `+${number}`,
    attendee_provider_id: account.userId,
  };
  const body = messageReceived({ ...options, account, sender: self });
  return {
    ...body,
    account_info: { type: 'WHATSAPP', feature: 'organization', phone_number: `+${number}` },
    is_sender: true,
  };
}

/**
 * A follow-up event (read, reaction, edit, delete, delivered) about an existing message, built
 * from the `message_received` body it refers to, as Unipile sends them.
 */
export function followUp(
  event: Exclude<MessagingEvent, 'message_received'>,
  original: UnipileMessagingPayload,
  overrides: Partial<UnipileMessagingPayload> = {},
): UnipileMessagingPayload {
  const base: UnipileMessagingPayload = { ...original, event, timestamp: new Date().toISOString() };
  if (event === 'message_reaction') {
    base.reaction = '👍';
    base.reaction_sender = original.attendees[1] ?? original.sender;
  }
  if (event === 'message_edited') base.message = `${original.message ?? ''} (edited)`;
  return { ...base, ...overrides };
}

/** An account status webhook body for an account (default type WHATSAPP). */
export function accountStatus(
  accountId: string,
  message: AccountStatusMessage,
  accountType = 'WHATSAPP',
): UnipileAccountStatusPayload {
  return { AccountStatus: { account_id: accountId, account_type: accountType, message } };
}

/**
 * The same message in the documented form: attachments as one object with string values,
 * booleans as strings, `is_group` as a boolean and `folder` as a string.
 */
export function documentedVariant(payload: UnipileMessagingPayload): UnipileMessagingPayload {
  return {
    ...payload,
    attachments: {
      id: 'att_1',
      type: 'img',
      size: { height: '150', width: '200' },
      sticker: 'false',
      unavailable: 'false',
      mimetype: 'image/png',
      file_size: '2048',
    },
    is_group: false,
    folder: 'INBOX',
    is_event: '0',
  };
}
