import type { Tx } from '../db/database.js';
import type { MessageState } from '../db/messages.js';
import {
  type OutboxWrites,
  type Published,
  publishToOutboxes,
  type RealtimeEventInput,
} from '../db/outboxes.js';
import { type OutboundEvent, outboundDeliveries } from '../outbound/enqueue.js';
import { newWebhookId } from '../shared/ids.js';

/** The realtime envelope type and the outbound (Standard Webhooks) type of each change. */
export const EVENT_TYPES = {
  'message:new': 'message.received',
  'message:updated': 'message.updated',
  'message:deleted': 'message.deleted',
  'chat:read': 'chat.read',
  'account:status': 'account.status',
} as const;
export type RealtimeType = keyof typeof EVENT_TYPES;

const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/** `data` of `message:new` (docs/realtime.md). */
export function newMessageData(message: MessageState) {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    text: message.text,
    sender: message.sender,
    isSender: message.isSender ?? false,
    attachments: message.attachments,
    sentAt: iso(message.sentAt),
    ...(message.editedAt ? { editedAt: iso(message.editedAt) } : {}),
    ...(message.deletedAt ? { deletedAt: iso(message.deletedAt) } : {}),
  };
}

/** `data` of `message:updated`: what changed, and the message's state after it. */
export function updatedMessageData(
  message: MessageState,
  change: 'edited' | 'reaction' | 'read' | 'delivered',
) {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    change,
    text: message.text,
    reactions: message.reactions,
    editedAt: iso(message.editedAt),
    readAt: iso(message.readAt),
    deliveredAt: iso(message.deliveredAt),
  };
}

export function deletedMessageData(message: MessageState) {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    deletedAt: iso(message.deletedAt),
  };
}

/**
 * Collects what one transaction owes to WebSocket clients and to subscriber endpoints; both are
 * written in that same transaction (outbox pattern).
 */
export class Envelopes {
  readonly realtime: RealtimeEventInput[] = [];
  readonly outbound: OutboundEvent[] = [];

  add(type: RealtimeType, accountId: string, data: unknown): void {
    this.realtime.push({ accountId, type, data });
    this.outbound.push({
      type: EVENT_TYPES[type],
      accountId,
      webhookId: newWebhookId(),
      timestamp: new Date().toISOString(),
      data,
    });
  }
}

export type { Published };

/** The outbox rows of a transaction's envelopes: deliveries (matched to endpoints later) and realtime events. */
function outboxWrites(envelopes: Envelopes): Required<OutboxWrites> {
  return { outbound: outboundDeliveries(envelopes.outbound), realtime: envelopes.realtime };
}

/**
 * Writes a transaction's envelopes to both outboxes in one statement, which must be the
 * transaction's last (see publishToOutboxes).
 */
export function publishEnvelopes(tx: Tx, envelopes: Envelopes): Promise<Published> {
  return publishToOutboxes(tx, outboxWrites(envelopes));
}
