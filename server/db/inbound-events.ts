import { inboundEvents } from '../../drizzle/schema.js';
import type { Tx } from './database.js';
import { preparedName, recordsetRows } from './recordset.js';

export interface InboundEventRow {
  provider: string;
  event: string | null;
  dedupeKey: string | null;
  accountId: string | null;
  status: 'accepted' | 'rejected';
  rawBody: string;
  error?: unknown;
}

/**
 * Records webhook bodies. A row whose dedupe key is already stored is skipped by the unique
 * index, race-free across transactions and instances.
 *
 * @returns the dedupe keys that were new (rows without a key are always inserted).
 */
export async function insertInboundEvents(tx: Tx, rows: InboundEventRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const recordset = recordsetRows(inboundEvents, rows);
  const inserted = await tx
    .insert(inboundEvents)
    .select(recordset.source)
    .onConflictDoNothing({ target: inboundEvents.dedupeKey })
    .returning({ dedupeKey: inboundEvents.dedupeKey })
    .prepare(preparedName('insert_inbound_events', recordset))
    .execute();
  return new Set(inserted.map((row) => row.dedupeKey).filter((key) => key !== null));
}
