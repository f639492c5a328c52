import type { MessageRecord } from '../db/messages.js';
import type { SendFailureReason, UpdatedMessageData } from './data.js';
import { type OwnMessageRow, sendFields } from './own-message-new.js';

/** A message sent through Hookline whose status changed, with the failure it may carry. */
export type SendStatusRow = OwnMessageRow & Partial<Pick<MessageRecord, 'sendFailureReason' | 'sendError'>>;

/**
 * The failure a `failed` sent message carries, as its status updates and the read API show it:
 * the stable `reason` and the human `error`. Empty for any other message.
 */
export function sendFailureFields(
  message: Pick<SendStatusRow, 'sendStatus' | 'sendFailureReason' | 'sendError'>,
): { reason?: SendFailureReason; error?: string } {
  if (message.sendStatus !== 'failed') return {};
  return {
    ...(message.sendFailureReason ? { reason: message.sendFailureReason as SendFailureReason } : {}),
    ...(message.sendError ? { error: message.sendError } : {}),
  };
}

/**
 * `data` of the `message:updated` that reports a send status change (`pending`, `sent`, `failed`,
 * `unknown`).
 * @param error the attempt's error, reported with a status other than `sent`. Default none.
 */
export function sendStatusData(message: SendStatusRow, error: string | null = null): UpdatedMessageData {
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
