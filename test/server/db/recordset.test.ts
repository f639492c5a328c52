import { asc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboundEvents } from '../../../drizzle/schema.js';
import { insertInboundEvents } from '../../../server/db/inbound-events.js';
import { transaction } from '../../../server/db/transaction.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

describe.each(testDatabaseKinds())('bulk inserts from one JSON recordset on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('stores text, jsonb and nulls exactly as given, and reports which dedupe keys were new', async () => {
    const { db: drizzle } = db.current.database;
    const odd = `quote " backslash \\ newline \n tab \t emoji 🙂 rtl \u202e sql '); drop table x; --`;
    const row = (dedupeKey: string | null, rawBody: string) => ({
      provider: 'unipile',
      event: 'message_received',
      dedupeKey,
      accountId: null,
      status: 'rejected' as const,
      rawBody,
      error: { code: 'HL_ERR_INVALID_PAYLOAD', issues: [{ path: ['a', 0], message: odd }] },
    });
    const first = await transaction(drizzle, (tx) =>
      insertInboundEvents(tx, [row('k1', odd), row(null, '{}'), row('k2', '[]')]),
    );
    const second = await transaction(drizzle, (tx) =>
      insertInboundEvents(tx, [row('k1', 'again'), row('k3', '')]),
    );

    expect([...first].sort()).toEqual(['k1', 'k2']);
    expect([...second]).toEqual(['k3']);
    const stored = await drizzle.select().from(inboundEvents).orderBy(asc(inboundEvents.id));
    expect(stored.map((event) => event.rawBody)).toEqual([odd, '{}', '[]', '']);
    expect(stored[0]?.error).toEqual(row('k1', odd).error);
    expect(stored[0]?.accountId).toBeNull();
  });
});
