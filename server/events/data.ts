import type { MessageState } from '../db/messages.js';
import { iso, listOf } from './json-values.js';
import type { NewMessageData, SendStatus } from './message-new.js';
import type { SentMessageData } from './message-sent.js';

/**
 * The `data` of the events that have no module of their own yet, each shaped once (message-new.ts,
 * own-message-new.ts, send-status.ts, message-sent.ts and send-accepted.ts have theirs): realtime
 * envelopes and outbound bodies carry the same `data` (docs/realtime.md, docs/webhooks.md).
 * client/types.ts is the browser's copy of these shapes; test/server/events/client-types.test.ts
 * fails when the two drift.
 */

/**
 * Why a send ended `failed`, as a stable code beside the human `error` (docs/sending.md,
 * "Failure reasons"): `refused` the provider said no (a 4xx); `rate_limited` it kept answering
 * 429 until the attempts ran out; `attempts_exhausted` it stayed unreachable until they ran out;
 * `unconfirmed` an ambiguous attempt the chat's messages did not show, after the automatic
 * resends; `files_unavailable` the send's files could not be read for its attempts.
 */
export type SendFailureReason =
  | 'refused'
  | 'rate_limited'
  | 'attempts_exhausted'
  | 'unconfirmed'
  | 'files_unavailable';

/** Every {@link SendFailureReason}, for schemas and tests. */
export const SEND_FAILURE_REASONS = [
  'refused',
  'rate_limited',
  'attempts_exhausted',
  'unconfirmed',
  'files_unavailable',
] as const satisfies readonly SendFailureReason[];

/** What a `message:updated` reports: a provider change, or a send status change. */
export type MessageChangeKind = 'edited' | 'reaction' | 'read' | 'delivered';

/** `data` of `message:updated` / `message.updated`: what changed, and the state after it. */
export interface UpdatedMessageData {
  accountId: string;
  chatId: string;
  messageId: string | null;
  change: MessageChangeKind | 'status';
  /** With `change: 'status'`: the sent message's local id, status, and the reason of a failure. */
  localId?: string;
  status?: SendStatus;
  error?: string;
  /** With `status: 'failed'`: why, as a stable code. */
  reason?: SendFailureReason;
  text: string | null;
  reactions?: unknown[];
  editedAt?: string | null;
  readAt?: string | null;
  deliveredAt?: string | null;
}

/** `data` of `message:deleted` / `message.deleted`. */
export interface DeletedMessageData {
  accountId: string;
  chatId: string;
  messageId: string;
  deletedAt: string | null;
}

/** `data` of `chat:read` / `chat.read`. */
export interface ChatReadData {
  accountId: string;
  chatId: string;
  unreadCount: number;
}

/** `data` of `account:status` / `account.status`. */
export interface AccountStatusData {
  accountId: string;
  accountType: string | null;
  status: string;
}

/** `data` of `endpoint.test` (outbound only). */
export interface EndpointTestData {
  endpointId: string;
  message: string;
}

/** `data` of `endpoint.disabled` (outbound only, operational). */
export interface EndpointDisabledData {
  endpointId: string;
  reason: string;
}

/** `data` of `delivery.exhausted` (outbound only, operational). */
export interface DeliveryExhaustedData {
  endpointId: string;
  deliveryId: number;
  webhookId: string;
  eventType: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** `data` by realtime envelope type. */
export interface RealtimeData {
  'message:new': NewMessageData;
  'message:updated': UpdatedMessageData;
  'message:deleted': DeletedMessageData;
  'chat:read': ChatReadData;
  'account:status': AccountStatusData;
}

/** `data` by outbound (Standard Webhooks) type. */
export interface OutboundData {
  'message.received': NewMessageData;
  'message.updated': UpdatedMessageData;
  'message.deleted': DeletedMessageData;
  'message.sent': SentMessageData;
  'chat.read': ChatReadData;
  'account.status': AccountStatusData;
  'endpoint.test': EndpointTestData;
  'endpoint.disabled': EndpointDisabledData;
  'delivery.exhausted': DeliveryExhaustedData;
}

/** `data` of `message:updated` for a provider change: what changed, and the message after it. */
export function updatedMessageData(message: MessageState, change: MessageChangeKind): UpdatedMessageData {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    change,
    text: message.text,
    reactions: listOf(message.reactions),
    editedAt: iso(message.editedAt),
    readAt: iso(message.readAt),
    deliveredAt: iso(message.deliveredAt),
  };
}

/** `data` of `message:deleted`. */
export function deletedMessageData(message: MessageState): DeletedMessageData {
  return {
    accountId: message.accountId,
    chatId: message.chatId,
    messageId: message.id,
    deletedAt: iso(message.deletedAt),
  };
}
