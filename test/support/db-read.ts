import { sql } from 'drizzle-orm';
import type { Database } from '../../server/db/database.js';
import { queryRows } from '../../server/db/rows.js';

/** Small read helpers for assertions on stored state. */
export const read = {
  count: async (
    database: Database,
    table: 'inbound_events' | 'messages' | 'chats' | 'realtime_events' | 'deliveries',
  ) =>
    Number(
      (
        await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from ${sql.identifier(table)}`,
        )
      )[0]!.n,
    ),
  message: async (database: Database, accountId: string, id: string) =>
    (
      await queryRows<Record<string, unknown>>(
        database.db,
        sql`select * from messages where account_id = ${accountId} and id = ${id}`,
      )
    )[0],
  chat: async (database: Database, accountId: string, id: string) =>
    (
      await queryRows<Record<string, unknown>>(
        database.db,
        sql`select * from chats where account_id = ${accountId} and id = ${id}`,
      )
    )[0],
  realtimeFor: (database: Database, accountId: string) =>
    queryRows<{ seq: number; type: string; data: Record<string, unknown> }>(
      database.db,
      sql`select seq::int as seq, type, data from realtime_events where account_id = ${accountId} order by seq`,
    ),
  inboundFor: (database: Database, accountId: string) =>
    queryRows<{ status: string; event: string | null; raw_body: string; error: unknown }>(
      database.db,
      sql`select status, event, raw_body, error from inbound_events where account_id = ${accountId} order by id`,
    ),
};
