import type { Tx } from '../db/database.js';
import { type Envelopes, outboundDeliveries, type Published } from '../events/index.js';
import { publishToOutboxes } from './outboxes.js';

/**
 * The one door through which a transaction publishes: its rendered envelopes go to the realtime
 * log (`realtime_events`, NOTIFY) and, fanned out to every enabled endpoint whose filters match,
 * to `deliveries` (the payload rendered now, its `webhook-id` and `timestamp` made in TypeScript
 * when the envelope was added, so a signed body stays byte-identical across retries), in one
 * statement (`hookline_publish_envelopes`).
 *
 * Call it as the transaction's LAST statement: the realtime append takes a transaction-scoped
 * advisory lock held until commit and draws `seq` only under it, so `seq` order is commit order.
 */
export function publish(tx: Tx, envelopes: Envelopes): Promise<Published> {
  return publishToOutboxes(tx, {
    outbound: outboundDeliveries(envelopes.outbound),
    realtime: envelopes.realtime,
  });
}
