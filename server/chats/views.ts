import type { ChatRecord } from '../db/chats.js';
import type { MessageRecord } from '../db/messages.js';
import { newMessageData, sendFailureFields, sendFields } from '../events/index.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** A chat as the read API returns it. */
export function chatView(chat: ChatRecord) {
  return {
    accountId: chat.accountId,
    chatId: chat.id,
    accountType: chat.accountType,
    subject: chat.subject,
    isGroup: chat.isGroup,
    attendees: chat.attendees ?? [],
    lastMessageAt: iso(chat.lastMessageAt),
    lastMessageId: chat.lastMessageId,
    lastMessagePreview: chat.lastMessagePreview,
    unreadCount: chat.unreadCount,
  };
}

/**
 * A message as the read API returns it: the `message:new` envelope's data, plus its later state;
 * a message sent through Hookline also carries `localId` and `status`, and when it `failed`, the
 * `reason` code and the `error` text (docs/sending.md).
 */
export function messageView(message: MessageRecord) {
  return {
    ...newMessageData(message),
    ...sendFields(message),
    ...sendFailureFields(message),
    reactions: message.reactions,
    quoted: message.quoted,
    editedAt: iso(message.editedAt),
    deletedAt: iso(message.deletedAt),
    readAt: iso(message.readAt),
    deliveredAt: iso(message.deliveredAt),
  };
}
