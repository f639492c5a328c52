import type { FastifyBaseLogger } from 'fastify';
import type { Db, Tx } from '../db/database.js';
import type { MessageRecord } from '../db/messages.js';
import { deleteSendAttachments } from '../db/send-attachments.js';
import { assignProviderId, lockSend, type SendRow, setMessageSendStatus, updateSend } from '../db/sends.js';
import { transaction } from '../db/transaction.js';
import {
  Envelopes,
  type Published,
  publishEnvelopes,
  type SettledBy,
  sendStatusData,
  sentMessageData,
} from '../events/index.js';

/** One status change to publish. */
export interface StatusChange {
  message: MessageRecord;
  error?: string | null;
  settledBy?: SettledBy;
}

/**
 * Publishes status changes: `message:updated` for sockets, and `message.sent` for subscribers
 * once sent. Must be the transaction's last statement (see publishToOutboxes).
 */
export function publishStatuses(tx: Tx, changes: readonly StatusChange[]): Promise<Published> {
  const envelopes = new Envelopes();
  for (const { message, error } of changes) {
    envelopes.addRealtime('message:updated', message.accountId, sendStatusData(message, error));
  }
  for (const { message, settledBy } of changes) {
    if (message.sendStatus !== 'sent') continue;
    envelopes.addOutbound('message.sent', message.accountId, {
      ...sentMessageData(message),
      settledBy: settledBy ?? 'response',
    });
  }
  return publishEnvelopes(tx, envelopes);
}

/**
 * Settles a locked, open send as `sent` with the provider's id: the message takes the id (one
 * message, even when the echo stored it first) and its uploaded files are dropped; the caller
 * publishes the change. A send already settled is left alone: whichever of the 201, the echo and
 * the lookup comes first wins.
 */
export async function settleSentLocked(
  tx: Tx,
  send: SendRow,
  providerId: string,
  settledBy: SettledBy,
): Promise<StatusChange | undefined> {
  if (send.status === 'sent' || send.status === 'failed') return undefined;
  await updateSend(tx, send.localId, {
    status: 'sent',
    providerMessageId: providerId,
    settledBy,
    leaseExpiresAt: null,
    lastError: null,
  });
  await deleteSendAttachments(tx, send.localId);
  const message = await assignProviderId(tx, send, providerId);
  return message ? { message, settledBy } : undefined;
}

/** What the worker learned about one send, applied in one transaction. */
export type SendTransition =
  | { to: 'sent'; providerId: string; settledBy: SettledBy }
  | { to: 'failed'; error: string; statusCode: number | null }
  | { to: 'unknown'; error: string; statusCode: number | null; lookupAt: Date }
  | { to: 'queued'; error: string | null; statusCode: number | null; at: Date };

/**
 * Applies a transition to a send unless it settled meanwhile (an echo may have won the race).
 * A `failed` send's uploaded files are dropped: a failed send is not sent again by the queue.
 * @param expected the statuses the send may be in for the transition to apply.
 * @param log where a 201 naming another id than the echo that settled the send is reported.
 * Default: not reported.
 */
export async function transitionSend(
  db: Db,
  localId: string,
  transition: SendTransition,
  expected: readonly string[],
  log?: FastifyBaseLogger,
): Promise<Published | undefined> {
  return transaction(db, async (tx) => {
    const send = await lockSend(tx, localId);
    if (send && log && transition.to === 'sent') reportIdMismatch(log, send, transition.providerId);
    if (!send || !expected.includes(send.status)) return undefined;
    switch (transition.to) {
      case 'sent': {
        const change = await settleSentLocked(tx, send, transition.providerId, transition.settledBy);
        return change ? publishStatuses(tx, [change]) : { deliveries: 0 };
      }
      case 'failed':
      case 'unknown': {
        await updateSend(tx, localId, {
          status: transition.to,
          lastError: transition.error,
          lastStatusCode: transition.statusCode,
          leaseExpiresAt: null,
          ...(transition.to === 'unknown' ? { nextAttemptAt: transition.lookupAt } : {}),
        });
        if (transition.to === 'failed') await deleteSendAttachments(tx, localId);
        const message = await setMessageSendStatus(tx, localId, transition.to);
        return message ? publishStatuses(tx, [{ message, error: transition.error }]) : { deliveries: 0 };
      }
      case 'queued': {
        await updateSend(tx, localId, {
          status: 'queued',
          lastError: transition.error,
          lastStatusCode: transition.statusCode,
          leaseExpiresAt: null,
          nextAttemptAt: transition.at,
        });
        if (send.status === 'unknown') {
          // The lookup showed the message was never sent: it is pending again.
          const message = await setMessageSendStatus(tx, localId, 'pending');
          return message ? publishStatuses(tx, [{ message }]) : { deliveries: 0 };
        }
        return { deliveries: 0 };
      }
    }
  });
}

/**
 * An echo matched by text and time settled this send under its id, and the provider's answer
 * names another: the message stays once, under the echo's id; the two ids are logged (never the
 * text) so that a provider answering with ids of another kind than its webhooks shows up.
 */
function reportIdMismatch(log: FastifyBaseLogger, send: SendRow, providerId: string): void {
  if (send.status !== 'sent' || send.settledBy !== 'echo') return;
  if (!send.providerMessageId || send.providerMessageId === providerId) return;
  log.warn(
    {
      localId: send.localId,
      accountId: send.accountId,
      echoMessageId: send.providerMessageId,
      responseMessageId: providerId,
    },
    'the provider answered a send with another message id than the echo that settled it',
  );
}
