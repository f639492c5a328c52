import type { FastifyBaseLogger } from 'fastify';
import type { Db, Tx } from '../db/database.js';
import type { MessageRecord } from '../db/messages.js';
import { deleteSendAttachments } from '../db/send-attachments.js';
import { findSends, lockSends, type SentRow, settleSent } from '../db/send-batches.js';
import { assignProviderId, type SendRow, setMessageSendStatus, updateSend } from '../db/sends.js';
import { transaction } from '../db/transaction.js';
import {
  Envelopes,
  type OutboundType,
  type Published,
  publishEnvelopes,
  type RealtimeType,
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

/** A transition the worker asks for, applied only while the send is in one of `expected`. */
export interface TransitionRequest {
  localId: string;
  transition: SendTransition;
  /** The statuses the send may be in for the transition to apply (an echo may have won the race). */
  expected: readonly string[];
}

/**
 * Applies several sends' transitions (the worker's group commit), publishing the status changes
 * once, last. The common batch, every send answered `201`, is one call that is its own
 * transaction and re-checks each status as it locks the row; any other batch is a transaction
 * that locks its rows first.
 * @param log where a 201 naming another id than the echo that settled the send is reported.
 * Default: not reported.
 */
export async function applyTransitions(
  db: Db,
  requests: readonly TransitionRequest[],
  log?: FastifyBaseLogger,
): Promise<Published> {
  const sentOnly = sentRows(requests);
  if (!sentOnly) return transaction(db, (tx) => applyLockedBatch(tx, requests, log));
  const { settled, published } = await settleSent(db, sentOnly, SENT_TYPES);
  const unsettled = sentOnly.filter((row) => !settled.has(row.localId));
  if (log && unsettled.length > 0) {
    // Settled meanwhile (by the echo, usually): a 201 naming another id is worth a warning.
    const providerIds = new Map(unsettled.map((row) => [row.localId, row.providerId]));
    for (const send of await findSends(db, [...providerIds.keys()]))
      reportIdMismatch(log, send, providerIds.get(send.localId) ?? '');
  }
  return published;
}

/** The types a settle to `sent` publishes under. */
const SENT_TYPES = { realtime: 'message:updated', outbound: 'message.sent' } as const satisfies {
  realtime: RealtimeType;
  outbound: OutboundType;
};

/** The batch as `sent` rows, when every transition is to `sent`, once per send and provider id. */
function sentRows(requests: readonly TransitionRequest[]): SentRow[] | undefined {
  const rows: SentRow[] = [];
  const seen = new Set<string>();
  for (const { localId, transition, expected } of requests) {
    if (transition.to !== 'sent' || seen.has(localId) || seen.has(`id\n${transition.providerId}`))
      return undefined;
    seen.add(localId).add(`id\n${transition.providerId}`);
    rows.push({
      localId,
      providerId: transition.providerId,
      settledBy: transition.settledBy,
      expected,
    });
  }
  return rows;
}

/**
 * Locks the batch's rows, then applies each transition whose send is still in an expected
 * status; the other changes are published first, then the sends settled as `sent` by one call.
 */
async function applyLockedBatch(
  tx: Tx,
  requests: readonly TransitionRequest[],
  log: FastifyBaseLogger | undefined,
): Promise<Published> {
  const locked = await lockSends(
    tx,
    requests.map((request) => request.localId),
  );
  const rows = new Map(locked.map((row) => [row.localId, row]));
  const changes: StatusChange[] = [];
  const sent: SentRow[] = [];
  const taken = new Set<string>();
  for (const { localId, transition, expected } of requests) {
    const send = rows.get(localId);
    if (send && log && transition.to === 'sent') reportIdMismatch(log, send, transition.providerId);
    if (!send || !expected.includes(send.status)) continue;
    rows.set(localId, { ...send, status: transition.to });
    const providerKey = transition.to === 'sent' ? `${send.accountId}\n${transition.providerId}` : '';
    if (transition.to === 'sent' && !taken.has(providerKey)) {
      taken.add(providerKey);
      sent.push({
        localId,
        providerId: transition.providerId,
        settledBy: transition.settledBy,
        expected: [send.status],
      });
      continue;
    }
    const change = await applyLocked(tx, send, transition);
    if (change) changes.push(change);
  }
  const first = changes.length > 0 ? await publishStatuses(tx, changes) : { deliveries: 0 };
  const { published } = await settleSent(tx, sent, SENT_TYPES);
  const deliveries = first.deliveries + published.deliveries;
  const realtimeSeq = published.realtimeSeq ?? first.realtimeSeq;
  return realtimeSeq === undefined ? { deliveries } : { deliveries, realtimeSeq };
}

/** Applies one transition to a locked send; returns the status change to publish, if any. */
async function applyLocked(
  tx: Tx,
  send: SendRow,
  transition: SendTransition,
): Promise<StatusChange | undefined> {
  const localId = send.localId;
  switch (transition.to) {
    case 'sent':
      return settleSentLocked(tx, send, transition.providerId, transition.settledBy);
    case 'failed':
    case 'unknown': {
      await updateSend(tx, localId, {
        status: transition.to,
        lastError: transition.error,
        lastStatusCode: transition.statusCode,
        leaseExpiresAt: null,
        ...(transition.to === 'unknown' ? { nextAttemptAt: transition.lookupAt } : {}),
      });
      const message = await setMessageSendStatus(tx, localId, transition.to);
      return message ? { message, error: transition.error } : undefined;
    }
    case 'queued': {
      await updateSend(tx, localId, {
        status: 'queued',
        lastError: transition.error,
        lastStatusCode: transition.statusCode,
        leaseExpiresAt: null,
        nextAttemptAt: transition.at,
      });
      if (send.status !== 'unknown') return undefined;
      // The lookup showed the message was never sent: it is pending again.
      const message = await setMessageSendStatus(tx, localId, 'pending');
      return message ? { message } : undefined;
    }
  }
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
