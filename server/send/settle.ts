import type { FastifyBaseLogger } from 'fastify';
import type { Db, Tx } from '../db/database.js';
import type { MessageRecord } from '../db/messages.js';
import { transaction } from '../db/transaction.js';
import {
  Envelopes,
  messageSentData,
  type Published,
  type SendFailureReason,
  type SettledBy,
  type SettledMessageRow,
  sendStatusData,
} from '../events/index.js';
import { publish } from '../outbound/index.js';
import { findSends, lockSends, type SentRow, settleSent } from './queries/send-batches.js';
import { type SendRow, setMessageSendStatus, updateSend } from './queries/sends.js';

/** One status change to publish: a send that is not (or no longer) on its way to `sent`. */
export interface StatusChange {
  message: MessageRecord;
  error?: string | null;
}

/**
 * Renders and publishes what a transaction changed in sends: each status change, then each send
 * settled as `sent`, as `message:updated` for sockets, and each of those as `message.sent` for
 * subscribers. Must be the transaction's last statement (see publish, server/outbound/publish.ts).
 * @param settled sends settled as `sent` in the transaction ({@link settleSent}). Default none.
 */
export function publishStatuses(
  tx: Tx,
  changes: readonly StatusChange[],
  settled: readonly SettledMessageRow[] = [],
): Promise<Published> {
  const envelopes = new Envelopes();
  for (const { message, error } of changes) {
    envelopes.addRealtime('message:updated', message.accountId, sendStatusData(message, error));
  }
  for (const row of settled) envelopes.addRealtime('message:updated', row.accountId, sendStatusData(row));
  for (const row of settled) envelopes.addOutbound('message.sent', row.accountId, messageSentData(row));
  return publish(tx, envelopes);
}

/** What the worker learned about one send, applied in one transaction. */
export type SendTransition =
  | { to: 'sent'; providerId: string; settledBy: SettledBy }
  | { to: 'failed'; reason: SendFailureReason; error: string; statusCode: number | null }
  | { to: 'unknown'; error: string; statusCode: number | null; lookupAt: Date }
  | {
      to: 'queued';
      error: string | null;
      statusCode: number | null;
      at: Date;
      /** Queued again because a lookup found no copy of an ambiguous attempt: counts as a resend. */
      unconfirmed?: boolean;
    };

/** A transition the worker asks for, applied only while the send is in one of `expected`. */
export interface TransitionRequest {
  localId: string;
  transition: SendTransition;
  /** The statuses the send may be in for the transition to apply (an echo may have won the race). */
  expected: readonly string[];
}

/**
 * Applies several sends' transitions (the worker's group commit), publishing the status changes
 * once, last. The common batch, every send answered `201`, is one call that re-checks each
 * status as it locks the row, then its publication; any other batch is a transaction
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
  const { settled, published } = await transaction(db, async (tx) => {
    const rows = await settleSent(tx, sentOnly);
    return {
      settled: new Set(rows.map((row) => row.localId)),
      published: await publishStatuses(tx, [], rows),
    };
  });
  const unsettled = sentOnly.filter((row) => !settled.has(row.localId));
  if (log && unsettled.length > 0) {
    // Settled meanwhile (by the echo, usually): a 201 naming another id is worth a warning.
    const providerIds = new Map(unsettled.map((row) => [row.localId, row.providerId]));
    for (const send of await findSends(db, [...providerIds.keys()]))
      reportIdMismatch(log, send, providerIds.get(send.localId) ?? '');
  }
  return published;
}

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
 * status, and publishes every change once, last. Sends settled as `sent` go through
 * `hookline_settle_sent`, in rounds in which each provider id appears once: a provider id named
 * by two sends of one batch settles the second after the first, which merges the two messages.
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
  const rounds: { keys: Set<string>; rows: SentRow[] }[] = [];
  for (const { localId, transition, expected } of requests) {
    const send = rows.get(localId);
    if (send && log && transition.to === 'sent') reportIdMismatch(log, send, transition.providerId);
    if (!send || !expected.includes(send.status)) continue;
    rows.set(localId, { ...send, status: transition.to });
    if (transition.to !== 'sent') {
      const change = await applyLocked(tx, send, transition);
      if (change) changes.push(change);
      continue;
    }
    const providerKey = `${send.accountId}\n${transition.providerId}`;
    let round = rounds.find((candidate) => !candidate.keys.has(providerKey));
    if (!round) {
      round = { keys: new Set(), rows: [] };
      rounds.push(round);
    }
    round.keys.add(providerKey);
    round.rows.push({
      localId,
      providerId: transition.providerId,
      settledBy: transition.settledBy,
      expected: [send.status],
    });
  }
  const settled: SettledMessageRow[] = [];
  for (const round of rounds) settled.push(...(await settleSent(tx, round.rows)));
  return publishStatuses(tx, changes, settled);
}

/** Applies one transition to a locked send; returns the status change to publish, if any. */
async function applyLocked(
  tx: Tx,
  send: SendRow,
  transition: Exclude<SendTransition, { to: 'sent' }>,
): Promise<StatusChange | undefined> {
  const localId = send.localId;
  switch (transition.to) {
    case 'failed':
    case 'unknown': {
      await updateSend(tx, localId, {
        status: transition.to,
        lastError: transition.error,
        lastStatusCode: transition.statusCode,
        leaseExpiresAt: null,
        ...(transition.to === 'unknown' ? { nextAttemptAt: transition.lookupAt } : {}),
      });
      const message = await setMessageSendStatus(
        tx,
        localId,
        transition.to,
        transition.to === 'failed' ? { reason: transition.reason, error: transition.error } : undefined,
      );
      return message ? { message, error: transition.error } : undefined;
    }
    case 'queued': {
      await updateSend(tx, localId, {
        status: 'queued',
        lastError: transition.error,
        lastStatusCode: transition.statusCode,
        leaseExpiresAt: null,
        nextAttemptAt: transition.at,
        ...(transition.unconfirmed ? { unconfirmedResends: send.unconfirmedResends + 1 } : {}),
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
