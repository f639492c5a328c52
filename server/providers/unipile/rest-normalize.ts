import { isStorableDate } from '../../shared/storable.js';
import type { MessageEvent, Sender } from '../events.js';
import { toAttachment } from './normalize.js';
import type { RestAttendee, RestChat, RestMessage } from './rest-messages.js';
import { attachmentsSchema } from './webhook-schema.js';

const flag = (value: unknown) => value === true || value === 1 || value === '1' || value === 'true';
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/** What a chat contributes to the messages of a sync page: its details and attendees. */
export interface ChatDetails {
  providerChatId: string | null;
  accountType: string | null;
  subject: string | null;
  isGroup: boolean | null;
  attendees: Sender[];
}

/** An attendee of `GET /chats/{id}/attendees` as a Sender. */
export function attendeeSender(attendee: RestAttendee): Sender {
  return {
    id: text(attendee.id),
    name: text(attendee.name),
    providerId: text(attendee.provider_id),
    profileUrl: text(attendee.profile_url),
  };
}

/** A chat of `GET /chats/{id}` and its attendees, as ingest stores a chat. */
export function chatDetails(chat: RestChat, attendees: RestAttendee[]): ChatDetails {
  return {
    providerChatId: text(chat.provider_id),
    accountType: text(chat.account_type),
    subject: text(chat.name),
    isGroup: typeof chat.type === 'number' ? chat.type !== 0 : null,
    attendees: attendees.map(attendeeSender),
  };
}

/** The provider's REST state of a message, to apply under later-wins when it is already stored. */
export interface RestState {
  seen: boolean;
  edited: boolean;
  deleted: boolean;
  /** Current reaction per sender key (the sender's provider id). */
  reactions: Map<string, string>;
}

/** Reads the seen, edited, deleted and reaction state of a REST message (reactions keyed by sender). */
export function restState(message: RestMessage): RestState {
  const reactions = new Map<string, string>();
  for (const reaction of Array.isArray(message.reactions) ? message.reactions : []) {
    if (typeof reaction?.value === 'string' && typeof reaction.sender_id === 'string') {
      reactions.set(reaction.sender_id, reaction.value);
    }
  }
  return {
    seen: flag(message.seen),
    edited: flag(message.edited),
    deleted: flag(message.deleted),
    reactions,
  };
}

/** Whether a listed item has what a message needs (an id, a chat, a readable time). */
export function isUsableRestMessage(message: RestMessage, accountId: string): boolean {
  const time = new Date(message?.timestamp);
  return (
    typeof message?.id === 'string' &&
    message.id !== '' &&
    typeof message.chat_id === 'string' &&
    message.chat_id !== '' &&
    (message.account_id === undefined || message.account_id === accountId) &&
    isStorableDate(time)
  );
}

/**
 * A REST message as the `message_received` event its webhook would have been: the same id and
 * timestamp (hence the same dedupe identity), the sender named from the chat's attendees.
 */
export function restMessageEvent(
  message: RestMessage,
  accountId: string,
  chat: ChatDetails | undefined,
): MessageEvent {
  const occurredAt = new Date(message.timestamp);
  const senderId = text(message.sender_id);
  const attendeeId = text(message.sender_attendee_id);
  const known = chat?.attendees.find(
    (attendee) =>
      (attendeeId && attendee.id === attendeeId) || (senderId && attendee.providerId === senderId),
  );
  const sender: Sender | null =
    known ??
    (senderId || attendeeId ? { id: attendeeId, name: null, providerId: senderId, profileUrl: null } : null);
  return {
    kind: 'message',
    event: 'message_received',
    accountId,
    accountType: chat?.accountType ?? null,
    accountUserId: null,
    chatId: message.chat_id,
    messageId: message.id,
    providerChatId: text(message.chat_provider_id) ?? chat?.providerChatId ?? null,
    providerMessageId: text(message.provider_id),
    text: flag(message.deleted) ? null : typeof message.text === 'string' ? message.text : null,
    sender,
    isSender: flag(message.is_sender),
    attachments: attachmentsSchema.parse(message.attachments).map(toAttachment),
    quoted: message.quoted ?? null,
    isGroup: chat?.isGroup ?? null,
    subject: chat?.subject ?? null,
    attendees: chat?.attendees ?? [],
    reaction: null,
    occurredAt,
    providerTime: occurredAt.getTime(),
    extra: null,
  };
}
