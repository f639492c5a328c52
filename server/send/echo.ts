import type { Db } from '../db/database.js';
import type { Published } from '../db/outboxes.js';
import { echoesWithOpenSends } from '../db/send-batches.js';
import { lockEchoCandidate } from '../db/sends.js';
import { transaction } from '../db/transaction.js';
import { publishStatuses, type StatusChange, settleSentLocked } from './settle.js';

/**
 * A `message_received` the account itself sent, which may be the echo of a send: ingest finds
 * these in each batch and hands them to settleEchoes before applying the batch.
 */
export interface SentEcho {
  accountId: string;
  chatId: string;
  messageId: string;
  text: string;
}

/**
 * Settles the sends these echoes are, in one transaction: each echo takes the oldest open send
 * (attempt recorded, not settled) of its chat and account with its text, created within
 * `windowSeconds`, unless its id is already stored. The send becomes `sent` under the echo's id,
 * so the ingest that follows finds the message stored and adds no second one (docs/sending.md).
 * One unlocked read first picks the echoes that may match at all: usually none, as the 201
 * settled their sends already, and then no transaction is opened.
 */
export async function settleEchoes(
  db: Db,
  echoes: readonly SentEcho[],
  windowSeconds: number,
): Promise<Published> {
  const open = await echoesWithOpenSends(db, echoes, windowSeconds);
  if (open.size === 0) return { deliveries: 0 };
  return transaction(db, async (tx) => {
    const changes: StatusChange[] = [];
    for (const echo of echoes.filter((_, index) => open.has(index))) {
      const send = await lockEchoCandidate(tx, echo, windowSeconds);
      if (!send) continue;
      const change = await settleSentLocked(tx, send, echo.messageId, 'echo');
      if (change) changes.push(change);
    }
    // Published last, once: the realtime append lock is taken only after every row lock.
    return changes.length > 0 ? publishStatuses(tx, changes) : { deliveries: 0 };
  });
}
