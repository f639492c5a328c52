import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { ingestParameters } from '../../../server/db/ingest-messages.js';
import {
  accountRecord,
  inboundRecord,
  messageRecord,
  sentRecord,
} from '../../../server/db/ingest-parameters.js';
import { outboxRows } from '../../../server/db/outboxes.js';
import { functionSources, normalizeSql, recordsetUses } from '../../support/sql-functions.js';

/** The record definition of each JSON parameter the function files read with json_to_recordset. */
const RECORDS: Record<string, PgTable> = {
  p_inbound: inboundRecord,
  p_accounts: accountRecord,
  p_messages: messageRecord,
  p_sent: sentRecord,
};

const columnsOf = (record: PgTable) =>
  Object.values(getTableColumns(record)).map(
    (column) => [column.name, normalizeSql(column.getSQLType())] as [string, string],
  );

/** A batch with one of everything, for the keys ingestParameters writes. */
const batch = {
  inbound: [
    {
      provider: 'unipile',
      event: 'message_received',
      dedupeKey: 'k1',
      accountId: 'acc_1',
      status: 'accepted' as const,
      rawBody: '{}',
    },
  ],
  accounts: [{ id: 'acc_1', provider: 'unipile', accountType: 'WHATSAPP', userId: null }],
  messages: [
    {
      dedupeKey: 'k1',
      accountId: 'acc_1',
      id: 'm1',
      chatId: 'c1',
      providerMessageId: null,
      text: 'hi',
      sender: null,
      isSender: false,
      attachments: [],
      quoted: null,
      extra: null,
      sentAt: new Date(),
      providerChatId: null,
      accountType: null,
      subject: null,
      isGroup: null,
      attendees: null,
      preview: 'hi',
    },
  ],
};

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

  it('are written by ingestParameters with exactly the keys the function files read', async () => {
    const uses = new Map((await recordsetUses()).map((use) => [use.parameter, use.columns]));
    const written = ingestParameters(batch);
    const keys = (rows: object[]) => Object.keys(rows[0] ?? {}).sort();
    const read = (parameter: string) => (uses.get(parameter) ?? []).map(([name]) => name).sort();

    expect(keys(written.inbound)).toEqual(read('p_inbound'));
    expect(keys(written.accounts)).toEqual(read('p_accounts'));
    expect(keys(written.messages)).toEqual(read('p_messages'));
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
