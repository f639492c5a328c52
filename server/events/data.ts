import type { MessageRecord, MessageState } from '../db/messages.js';
import { iso, listOf } from './json-values.js';
import { type NewMessageData, newMessageData, type SendStatus } from './message-new.js';

/**
 * The `data` of the events that have no module of their own yet (message-new.ts has `message:new`),
 * each shaped once: realtime envelopes and outbound bodies carry the same `data` (docs/realtime.md,
 * docs/webhooks.md). client/types.ts is the browser's copy of these shapes;
 * test/server/events/client-types.test.ts fails when the two drift.
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

/** How a send was settled as `sent`: the provider's 201, its echo webhook, or a lookup. */
export type SettledBy = 'response' | 'echo' | 'lookup';

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

/** `data` of `message.sent` (outbound only): the sent message, and what settled it. */
export interface SentMessageData extends NewMessageData {
  settledBy: SettledBy;
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

/**
 * The fields a message sent through Hookline adds to its envelopes and read view: `localId`,
 * `status`, and `messageId` null until the provider's id is known. Empty for other messages.
 */
export function sendFields(
  message: Pick<MessageRecord, 'id' | 'localId' | 'sendStatus'>,
): Partial<Pick<NewMessageData, 'messageId' | 'localId' | 'status'>> {
  if (!message.localId) return {};
  return {
    messageId: message.id === message.localId ? null : message.id,
    localId: message.localId,
    status: message.sendStatus as SendStatus,
  };
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

/** `data` of the `message:new` of a message sent through Hookline. */
export function sentMessageData(message: MessageRecord): NewMessageData {
  return { ...newMessageData(message), ...sendFields(message) };
}

/**
 * The failure a `failed` sent message carries, as its status updates and the read API show it:
 * the stable `reason` and the human `error`. Empty for any other message.
 */
export function sendFailureFields(
  message: Pick<MessageRecord, 'sendStatus' | 'sendFailureReason' | 'sendError'>,
): { reason?: SendFailureReason; error?: string } {
  if (message.sendStatus !== 'failed') return {};
  return {
    ...(message.sendFailureReason ? { reason: message.sendFailureReason as SendFailureReason } : {}),
    ...(message.sendError ? { error: message.sendError } : {}),
  };
}

/** `data` of the `message:updated` that reports a send status change. */
export function sendStatusData(message: MessageRecord, error: string | null = null): UpdatedMessageData {
  return {
    ...sendFields(message),
    messageId: message.id === message.localId ? null : message.id,
    accountId: message.accountId,
    chatId: message.chatId,
    change: 'status',
    text: message.text,
    ...(error ? { error } : {}),
    ...sendFailureFields(message),
  };
}
