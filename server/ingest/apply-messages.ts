import { type AccountSeen, upsertAccountsSeen } from '../db/accounts.js';
import { type ChatActivity, upsertChatActivity } from '../db/chats.js';
import type { Tx } from '../db/database.js';
import {
  applyMessageChange,
  type MessageChange,
  type NewMessage,
  upsertReceivedMessages,
} from '../db/messages.js';
import { deletedMessageData, type Envelopes, newMessageData, updatedMessageData } from './envelopes.js';
import type { MessageEvent } from './events.js';
import type { KnownAccounts } from './known-accounts.js';

const PROVIDER = 'unipile';
const PREVIEW_LENGTH = 200;

function preview(event: MessageEvent): string | null {
  if (event.text)
    return event.text.length > PREVIEW_LENGTH ? `${event.text.slice(0, PREVIEW_LENGTH)}…` : event.text;
  return event.attachments.length > 0 ? '[attachment]' : null;
}

function newMessageRow(event: MessageEvent, receivedAt: Date): NewMessage {
  return {
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
    // A message always has a time, so chat and message ordering never meets a null.
    sentAt: event.occurredAt ?? receivedAt,
  };
}

function chatActivity(events: MessageEvent[], receivedAt: Date): ChatActivity[] {
  const byChat = new Map<string, ChatActivity>();
  for (const event of events) {
    const at = event.occurredAt ?? receivedAt;
    const key = `${event.accountId}\u0000${event.chatId}`;
    const current = byChat.get(key);
    const unread = event.isSender ? 0 : 1;
    if (!current) {
      byChat.set(key, {
        accountId: event.accountId,
        id: event.chatId,
        providerChatId: event.providerChatId,
        accountType: event.accountType,
        subject: event.subject,
        isGroup: event.isGroup,
        attendees: event.attendees.length > 0 ? event.attendees : null,
        lastMessageAt: at,
        lastMessageId: event.messageId,
        lastMessagePreview: preview(event),
        unreadIncrement: unread,
      });
      continue;
    }
    current.unreadIncrement += unread;
    if (at >= current.lastMessageAt) {
      current.lastMessageAt = at;
      current.lastMessageId = event.messageId;
      current.lastMessagePreview = preview(event);
    }
  }
  return [...byChat.values()];
}

export interface NewMessagesApplied {
  /** Accounts whose details were written: remember them once the transaction commits. */
  accountsWritten: AccountSeen[];
  /** The chats to bump, applied by {@link applyChatActivity} as late in the transaction as possible. */
  chats: ChatActivity[];
}

/**
 * Stores a batch's new messages in bulk (accounts whose details are new, then messages) and adds
 * their `message:new` envelopes. Chats are returned, not written: their rows are the ones
 * concurrent batches contend for, so the caller bumps them just before commit to hold those
 * locks for as short a time as possible.
 */
export async function applyNewMessages(
  tx: Tx,
  events: MessageEvent[],
  envelopes: Envelopes,
  knownAccounts: KnownAccounts,
): Promise<NewMessagesApplied> {
  if (events.length === 0) return { accountsWritten: [], chats: [] };
  const receivedAt = new Date();
  const accounts = new Map(
    events.map((event) => [
      event.accountId,
      {
        id: event.accountId,
        provider: PROVIDER,
        accountType: event.accountType,
        userId: event.accountUserId,
      },
    ]),
  );
  const accountsWritten = knownAccounts.unseen([...accounts.values()]);
  await upsertAccountsSeen(tx, accountsWritten);
  const stored = await upsertReceivedMessages(
    tx,
    events.map((event) => newMessageRow(event, receivedAt)),
  );
  const byKey = new Map(stored.map((row) => [`${row.accountId}\u0000${row.id}`, row]));
  for (const event of events) {
    const row = byKey.get(`${event.accountId}\u0000${event.messageId}`);
    if (row) envelopes.add('message:new', row.accountId, newMessageData(row));
  }
  return { accountsWritten, chats: chatActivity(events, receivedAt) };
}

/** Bumps chats for new messages (see {@link applyNewMessages} for why this comes last). */
export function applyChatActivity(tx: Tx, chats: ChatActivity[]): Promise<void> {
  return upsertChatActivity(tx, chats);
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
      };
    }
  }
}

/** Applies one follow-up event (edit, reaction, read, delivered, delete) and its envelope. */
export async function applyFollowUp(tx: Tx, event: MessageEvent, envelopes: Envelopes): Promise<void> {
  const change = changeOf(event);
  const row = await applyMessageChange(
    tx,
    { accountId: event.accountId, messageId: event.messageId, chatId: event.chatId },
    change,
  );
  if (change.kind === 'deleted') envelopes.add('message:deleted', row.accountId, deletedMessageData(row));
  else envelopes.add('message:updated', row.accountId, updatedMessageData(row, change.kind));
}
