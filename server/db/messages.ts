import { and, desc, eq, sql } from 'drizzle-orm';
import { messages } from '../../drizzle/schema.js';
import type { Executor, Tx } from './database.js';
import { preparedName, recordsetRows } from './recordset.js';

export type MessageRecord = typeof messages.$inferSelect;
/**
 * What ingest reads back from a write: the columns envelopes carry (server/ingest/envelopes.ts).
 * Returning only these, not whole rows with their provider extras, keeps result parsing off the
 * hot path.
 */
const messageStateColumns = {
  accountId: messages.accountId,
  id: messages.id,
  chatId: messages.chatId,
  text: messages.text,
  sender: messages.sender,
  isSender: messages.isSender,
  attachments: messages.attachments,
  reactions: messages.reactions,
  sentAt: messages.sentAt,
  editedAt: messages.editedAt,
  deletedAt: messages.deletedAt,
  readAt: messages.readAt,
  deliveredAt: messages.deliveredAt,
};
export type MessageState = Pick<MessageRecord, keyof typeof messageStateColumns>;

export type NewMessage = Omit<typeof messages.$inferInsert, 'state' | 'createdAt' | 'updatedAt'>;

const byKey = (a: { accountId: string; id: string }, b: { accountId: string; id: string }) =>
  a.accountId === b.accountId ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.accountId < b.accountId ? -1 : 1;

/**
 * Stores newly received messages. A placeholder left by an earlier out-of-order event (an edit,
 * reaction, read, … that arrived first) is filled in, keeping what that event already applied:
 * an edited text stays the edited text, a deletion stays a deletion.
 *
 * @returns the stored rows, as they are after the merge.
 */
export async function upsertReceivedMessages(tx: Tx, rows: NewMessage[]): Promise<MessageState[]> {
  if (rows.length === 0) return [];
  const recordset = recordsetRows(
    messages,
    [...rows].sort(byKey).map((row) => ({ ...row, state: 'received' })),
  );
  return tx
    .insert(messages)
    .select(recordset.source)
    .onConflictDoUpdate({
      target: [messages.accountId, messages.id],
      set: {
        state: 'received',
        chatId: sql`excluded.chat_id`,
        providerMessageId: sql`excluded.provider_message_id`,
        sender: sql`excluded.sender`,
        isSender: sql`excluded.is_sender`,
        attachments: sql`case when ${messages.deletedAt} is null then excluded.attachments else ${messages.attachments} end`,
        quoted: sql`excluded.quoted`,
        extra: sql`excluded.extra`,
        sentAt: sql`excluded.sent_at`,
        text: sql`case when ${messages.editedAt} is null and ${messages.deletedAt} is null then excluded.text else ${messages.text} end`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${messages.state} = 'placeholder'`,
    })
    .returning(messageStateColumns)
    .prepare(preparedName('upsert_received_messages', recordset))
    .execute();
}

export interface MessageKey {
  accountId: string;
  messageId: string;
  chatId: string;
}

/** What a follow-up event changes on a message. */
export type MessageChange =
  | { kind: 'edited'; text: string | null; at: Date }
  | { kind: 'read'; at: Date }
  | { kind: 'delivered'; at: Date }
  | { kind: 'deleted'; at: Date }
  | { kind: 'reaction'; reaction: string; senderKey: string; value: unknown };

function changeColumns(change: MessageChange) {
  switch (change.kind) {
    case 'edited':
      return {
        insert: { text: change.text, editedAt: change.at },
        set: { text: sql`excluded.text`, editedAt: sql`excluded.edited_at` },
      };
    case 'read':
      return {
        insert: { readAt: change.at },
        set: { readAt: sql`coalesce(${messages.readAt}, excluded.read_at)` },
      };
    case 'delivered':
      return {
        insert: { deliveredAt: change.at },
        set: { deliveredAt: sql`coalesce(${messages.deliveredAt}, excluded.delivered_at)` },
      };
    case 'deleted':
      return {
        insert: { deletedAt: change.at, text: null },
        set: {
          deletedAt: sql`coalesce(${messages.deletedAt}, excluded.deleted_at)`,
          text: sql`null`,
          attachments: sql`'[]'::jsonb`,
        },
      };
    case 'reaction': {
      // One reaction per sender: a new one replaces theirs, an empty one removes it.
      const added = change.reaction === '' ? [] : [change.value];
      const kept = sql`coalesce((select jsonb_agg(r) from jsonb_array_elements(${messages.reactions}) r
        where r->>'senderKey' is distinct from ${change.senderKey}), '[]'::jsonb)`;
      return {
        insert: { reactions: added },
        set: { reactions: sql`${kept} || ${JSON.stringify(added)}::jsonb` },
      };
    }
  }
}

/**
 * Applies a follow-up event to a message. When the message has not arrived yet, a placeholder
 * row carries the change until it does (see upsertReceivedMessages).
 *
 * @returns the message as it is after the change.
 */
export async function applyMessageChange(
  tx: Tx,
  key: MessageKey,
  change: MessageChange,
): Promise<MessageState> {
  const columns = changeColumns(change);
  const [row] = await tx
    .insert(messages)
    .values({
      accountId: key.accountId,
      id: key.messageId,
      chatId: key.chatId,
      state: 'placeholder',
      ...columns.insert,
    })
    .onConflictDoUpdate({
      target: [messages.accountId, messages.id],
      set: { ...columns.set, updatedAt: sql`now()` },
    })
    .returning(messageStateColumns);
  if (!row) throw new Error('applyMessageChange: upsert returned no row');
  return row;
}

/** Keyset position in a chat's messages: the last row of the previous page. */
export interface MessageCursor {
  sentAt: string;
  id: string;
}

export interface ListChatMessagesQuery {
  accountId: string;
  chatId: string;
  limit: number;
  before?: MessageCursor;
}

/** A chat's received messages, newest first (placeholders are not messages yet). */
export function listChatMessages(db: Executor, query: ListChatMessagesQuery): Promise<MessageRecord[]> {
  const conditions = [
    eq(messages.accountId, query.accountId),
    eq(messages.chatId, query.chatId),
    eq(messages.state, 'received'),
  ];
  if (query.before) {
    conditions.push(
      sql`(${messages.sentAt}, ${messages.id}) < (${query.before.sentAt}::timestamptz, ${query.before.id})`,
    );
  }
  return db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(desc(messages.sentAt), desc(messages.id))
    .limit(query.limit);
}
