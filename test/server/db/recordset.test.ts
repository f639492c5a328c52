import { sql } from 'drizzle-orm';
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { recordsetRows } from '../../../server/db/recordset.js';
import { queryRows } from '../../../server/db/rows.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';

/** Only its columns matter: a recordset is a select list, not a stored table. */
const sample = pgTable('sample', {
  position: integer('position').notNull(),
  label: text('label'),
  detail: jsonb('detail'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }),
  fixed: text('fixed'),
  unset: text('unset'),
});

const odd = `quote " backslash \\ newline \n tab \t emoji 🙂 rtl \u202e sql '); drop table x; --`;

describe.each(testDatabaseKinds())('recordsetRows on %s', (kind) => {
  const db = useTestDatabase(kind);

  it('reads the batch back from one JSON parameter, in order, with types, overrides and nulls', async () => {
    const at = new Date('2026-11-23T01:02:03.456Z');
    const recordset = recordsetRows(
      sample,
      [
        { position: 1, label: odd, detail: { nested: [odd, 1, null] }, at },
        { position: 2, label: null, detail: null, at: null },
      ],
      { fixed: sql`'overridden'` },
    );
    const rows = await queryRows<Record<string, unknown>>(db.current.database.db, recordset.source);

    expect(recordset.shape).toBe('bbbbod');
    expect(
      rows.map((row) => ({
        ...row,
        at: row.at === null || row.at instanceof Date ? row.at : new Date(String(row.at)),
      })),
    ).toEqual([
      { position: 1, label: odd, detail: { nested: [odd, 1, null] }, at, fixed: 'overridden', unset: null },
      { position: 2, label: null, detail: null, at: null, fixed: 'overridden', unset: null },
    ]);
  });
});
