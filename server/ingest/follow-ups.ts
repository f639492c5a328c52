import type { Tx } from '../db/database.js';
import { deletedMessageData, type Envelopes, updatedMessageData } from '../events/index.js';
import type { MessageEvent } from '../providers/events.js';
import { messagePreview } from './preview.js';
import { clearUnread, updateLastMessagePreview } from './queries/chat-writes.js';
import { applyMessageChange, type MessageChange } from './queries/message-changes.js';

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
      messagePreview(row.text, row.attachments),
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
