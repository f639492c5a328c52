import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { outboxRows } from '../../../../server/outbound/outboxes.js';
import { sentRecord } from '../../../../server/send/queries/settle-parameters.js';
import { functionSources, normalizeSql, recordsetUses } from '../../../support/sql-functions.js';

/** The record definition of each JSON parameter the function files read with json_to_recordset. */
const RECORDS: Record<string, PgTable> = { p_sent: sentRecord };

const columnsOf = (record: PgTable) =>
  Object.values(getTableColumns(record)).map(
    (column) => [column.name, normalizeSql(column.getSQLType())] as [string, string],
  );

describe('the JSON parameters of the SQL functions', () => {
  it('are read by the function files with the columns and types of their record definitions', async () => {
    const uses = await recordsetUses();

    expect(uses.map((use) => use.parameter).sort()).toEqual(Object.keys(RECORDS).sort());
    for (const use of uses) {
      const record = RECORDS[use.parameter];
      expect(record, `${use.function}(${use.parameter})`).toBeDefined();
      expect(use.columns, `${use.function}(${use.parameter})`).toEqual(columnsOf(record!));
    }
  });

  it('of hookline_publish_envelopes are the keys outboxRows writes', async () => {
    const publish = (await functionSources()).find((source) => source.name === 'hookline_publish_envelopes');
    const read = new Set([...(publish?.body ?? '').matchAll(/value->>?'(\w+)'/g)].map((match) => match[1]));
    const rows = outboxRows({
      outbound: [{ type: 't', accountId: 'a', webhookId: 'w', payload: {} }],
      realtime: [{ accountId: 'a', type: 't', data: {} }],
    });
    const written = new Set([...Object.keys(rows.outbound[0]!), ...Object.keys(rows.realtime[0]!)]);

    expect([...read].sort()).toEqual([...written].sort());
  });
});
