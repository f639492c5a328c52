import { sql } from 'drizzle-orm';
import type { Database } from '../../server/db/database.js';

/**
 * Bulk rows for inbox browser tests and the search benchmark: a long chat or many chats written
 * straight into the read model (as ingest would have left them), which webhooks one by one would
 * take minutes to build.
 */

/** One chat with `count` received messages `message 1` … `message N`, a minute apart, the newest last. */
export async function seedLongChat(
  database: Database,
  options: { accountId: string; chatId: string; count: number; name?: string },
): Promise<void> {
  const start = '2026-01-01T00:00:00Z';
  const sender = JSON.stringify({
    id: 'att_seed',
    name: options.name ?? 'Ada Lovelace',
    providerId: null,
    profileUrl: null,
  });
  await database.db.execute(sql`
    insert into messages (account_id, id, chat_id, state, text, sender, is_sender, sent_at)
    select ${options.accountId}, ${options.chatId} || '_m' || n, ${options.chatId}, 'received',
      'message ' || n, ${sender}::jsonb, false, ${start}::timestamptz + n * interval '1 minute'
    from generate_series(1, ${options.count}::int) n`);
  await database.db.execute(sql`
    insert into chats (account_id, id, attendees, last_message_at, last_message_id, last_message_preview, unread_count)
    values (${options.accountId}, ${options.chatId}, jsonb_build_array(${sender}::jsonb),
      ${start}::timestamptz + ${options.count}::int * interval '1 minute',
      ${options.chatId} || '_m' || ${options.count}::int, 'message ' || ${options.count}::int, 0)`);
}

/** `count` chats `<prefix>_1` … `<prefix>_N`, one message each, the highest number the most recent. */
export async function seedManyChats(
  database: Database,
  options: { accountId: string; prefix: string; count: number },
): Promise<void> {
  await database.db.execute(sql`
    insert into chats (account_id, id, attendees, last_message_at, last_message_id, last_message_preview, unread_count)
    select ${options.accountId}, ${options.prefix} || '_' || n,
      jsonb_build_array(jsonb_build_object('name', 'Person ' || n)),
      '2025-06-01T00:00:00Z'::timestamptz + n * interval '1 minute', 'm_' || n, 'hello ' || n, 0
    from generate_series(1, ${options.count}::int) n`);
}
