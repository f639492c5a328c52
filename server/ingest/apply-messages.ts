import type { AccountSeen } from '../db/accounts.js';
import { clearUnread, updateLastMessagePreview } from '../db/chats.js';
import type { Tx } from '../db/database.js';
import type { ReceivedMessage } from '../db/ingest-messages.js';
import { applyMessageChange, type MessageChange } from '../db/messages.js';
import { deletedMessageData, type Envelopes, updatedMessageData } from '../events/index.js';
import type { MessageEvent } from '../providers/events.js';

const PREVIEW_LENGTH = 200;

/**
 * The chat list's preview of a message: its text, cut at 200 with an ellipsis; else
 * `[attachment]` when it has any; else null (as `hookline_message_preview` in SQL, migration 0008).
 */
function preview(text: string | null, attachments: unknown): string | null {
  if (text) return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}…` : text;
  return Array.isArray(attachments) && attachments.length > 0 ? '[attachment]' : null;
}

/**
 * A `message_received` event as stored: the message, and what it contributes to its chat.
 * A message always has a time (the provider's, else `receivedAt`), so chat and message ordering
 * never meets a null.
 */
export function receivedMessage(event: MessageEvent, dedupeKey: string, receivedAt: Date): ReceivedMessage {
  return {
    dedupeKey,
    accountId: event.accountId,
    id: event.messageId,
    chatId: event.chatId,
    providerMessageId: event.providerMessageId,
    text: event.text,
    sender: event.sender,
    isSender: event.isSender,
    attachments: event.attachments,
    quoted: event.quoted,
    extra: event.extra,
    sentAt: event.occurredAt ?? receivedAt,
    providerChatId: event.providerChatId,
    accountType: event.accountType,
    subject: event.subject,
    isGroup: event.isGroup,
    attendees: event.attendees.length > 0 ? event.attendees : null,
    preview: preview(event.text, event.attachments),
  };
}

/** The accounts received messages name, once each, with the details they carry. */
export function accountsOf(events: MessageEvent[], provider: string): AccountSeen[] {
  const accounts = new Map<string, AccountSeen>();
  for (const event of events) {
    accounts.set(event.accountId, {
      id: event.accountId,
      provider,
      accountType: event.accountType,
      userId: event.accountUserId,
    });
  }
  return [...accounts.values()];
}

function changeOf(event: MessageEvent): MessageChange {
  const at = event.occurredAt ?? new Date();
  switch (event.event) {
    case 'message_edited':
      return { kind: 'edited', text: event.text, at };
    case 'message_read':
      return { kind: 'read', at };
    case 'message_delivered':
      return { kind: 'delivered', at };
    case 'message_deleted':
      return { kind: 'deleted', at };
    default: {
      const sender = event.reaction?.sender ?? null;
      const senderKey = sender?.providerId ?? sender?.id ?? '';
      return {
        kind: 'reaction',
        reaction: event.reaction?.reaction ?? '',
        senderKey,
        value: { reaction: event.reaction?.reaction ?? '', sender, senderKey, at: at.toISOString() },
        at,
      };
    }
  }
}

/**
 * Applies one follow-up event (edit, reaction, read, delivered, delete) and its envelope, and
 * keeps the chat's preview in step when it edits or deletes the chat's last message, and its
 * unread count when a received message was read. A change
 * older than the state it would replace is not applied and publishes nothing (its body is kept).
 */
export async function applyFollowUp(tx: Tx, event: MessageEvent, envelopes: Envelopes): Promise<void> {
  const change = changeOf(event);
  const row = await applyMessageChange(
    tx,
    { accountId: event.accountId, messageId: event.messageId, chatId: event.chatId },
    change,
  );
  if (!row) return;
  if ((change.kind === 'edited' || change.kind === 'deleted') && row.state === 'received') {
    await updateLastMessagePreview(
      tx,
      { accountId: row.accountId, chatId: row.chatId, messageId: row.id },
      preview(row.text, row.attachments),
    );
  }
  if (change.kind === 'deleted') envelopes.add('message:deleted', row.accountId, deletedMessageData(row));
  else envelopes.add('message:updated', row.accountId, updatedMessageData(row, change.kind));
  // A received message read means its account read the chat elsewhere (on the phone): its badge
  // clears in every tab. An own message read is the other side's read receipt (a tick).
  if (change.kind === 'read' && row.state === 'received' && row.isSender === false) {
    const chat = await clearUnread(tx, { accountId: row.accountId, chatId: row.chatId });
    if (chat)
      envelopes.add('chat:read', chat.accountId, {
        accountId: chat.accountId,
        chatId: chat.id,
        unreadCount: 0,
      });
  }
}
