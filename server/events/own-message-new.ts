import type { MessageRecord, MessageState } from '../db/messages.js';
import { type NewMessageData, newMessageData, type SendStatus } from './message-new.js';

/**
 * A stored message sent through Hookline, as the send queries return it: the columns every
 * message envelope carries, with its local id and send status.
 */
export type OwnMessageRow = MessageState & Pick<MessageRecord, 'localId' | 'sendStatus'>;

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

/**
 * `data` of the `message:new` of a message sent through Hookline: the received message's shape
 * (newMessageData) with its {@link sendFields}.
 */
export function ownMessageNewData(message: OwnMessageRow): NewMessageData {
  return { ...newMessageData(message), ...sendFields(message) };
}
