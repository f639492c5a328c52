import { and, desc, eq, sql } from 'drizzle-orm';
import { messages } from '../../drizzle/schema.js';
import type { Executor, Tx } from './database.js';

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
