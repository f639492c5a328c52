import type { Db } from '../db/database.js';
import { transaction } from '../db/transaction.js';
import type { Published } from '../events/index.js';
import { echoesWithOpenSends, type SentRow, settleSent } from './queries/send-batches.js';
import { lockEchoCandidate } from './queries/sends.js';
import { publishStatuses } from './settle.js';

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
    const matched: SentRow[] = [];
    const taken = new Set<string>();
    for (const echo of echoes.filter((_, index) => open.has(index))) {
      // The same echo twice matches once; each send matches one echo.
      if (taken.has(`${echo.accountId}\n${echo.messageId}`)) continue;
      const picked = matched.map((row) => row.localId);
      const send = await lockEchoCandidate(tx, echo, windowSeconds, picked);
      if (!send) continue;
      taken.add(`${echo.accountId}\n${echo.messageId}`);
      matched.push({
        localId: send.localId,
        providerId: echo.messageId,
        settledBy: 'echo',
        expected: [send.status],
      });
    }
    // Settled and published last, once: the realtime append lock is taken only after every row lock.
    return publishStatuses(tx, [], await settleSent(tx, matched));
  });
}
