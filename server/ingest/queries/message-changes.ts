import { sql } from 'drizzle-orm';
import { messages } from '../../../drizzle/schema.js';
import type { Tx } from '../../db/database.js';
import { MESSAGE_STATE_COLUMNS, type MessageState } from '../../db/messages.js';

/** Identifies the message a follow-up event is about, in its account and chat. */
export interface MessageKey {
  accountId: string;
  messageId: string;
  chatId: string;
}

/** What a follow-up event changes on a message, and when it happened. */
export type MessageChange =
  | { kind: 'edited'; text: string | null; at: Date }
  | { kind: 'read'; at: Date }
  | { kind: 'delivered'; at: Date }
  | { kind: 'deleted'; at: Date }
  | { kind: 'reaction'; reaction: string; senderKey: string; value: unknown; at: Date };

/**
 * The placeholder's columns, the update of an existing row, and when that update applies: later
 * wins per kind of state, so a change older than the state it would replace is not applied. At
 * the same time, a different text or reaction goes to the later arrival, and the same one changes
 * nothing. A deletion is final: nothing brings text back, and a second deletion changes nothing.
 */
function changeColumns(change: MessageChange) {
  switch (change.kind) {
    case 'edited':
      return {
        insert: { text: change.text, editedAt: change.at },
        set: { text: sql`excluded.text`, editedAt: sql`excluded.edited_at` },
        where: sql`${messages.deletedAt} is null and (${messages.editedAt} is null
          or ${messages.editedAt} < excluded.edited_at
          or ${messages.editedAt} = excluded.edited_at and ${messages.text} is distinct from excluded.text)`,
      };
    case 'read':
      return {
        insert: { readAt: change.at },
        set: { readAt: sql`excluded.read_at` },
        where: sql`${messages.readAt} is null or ${messages.readAt} < excluded.read_at`,
      };
    case 'delivered':
      return {
        insert: { deliveredAt: change.at },
        set: { deliveredAt: sql`excluded.delivered_at` },
        where: sql`${messages.deliveredAt} is null or ${messages.deliveredAt} < excluded.delivered_at`,
      };
    case 'deleted':
      return {
        insert: { deletedAt: change.at, text: null },
        set: { deletedAt: sql`excluded.deleted_at`, text: sql`null`, attachments: sql`'[]'::jsonb` },
        where: sql`${messages.deletedAt} is null`,
      };
    case 'reaction': {
      // One reaction per sender: a new one replaces theirs, an empty one removes it. Its time is
      // kept by sender, even once removed, so an older reaction arriving late stays unapplied.
      const added = change.reaction === '' ? [] : [change.value];
      const at = change.at.toISOString();
      const kept = sql`coalesce((select jsonb_agg(r) from jsonb_array_elements(${messages.reactions}) r
        where r->>'senderKey' is distinct from ${change.senderKey}), '[]'::jsonb)`;
      const current = sql`coalesce((select r->>'reaction' from jsonb_array_elements(${messages.reactions}) r
        where r->>'senderKey' = ${change.senderKey}::text limit 1), '')`;
      const since = sql`coalesce((${messages.reactionTimes} ->> ${change.senderKey}::text)::timestamptz, '-infinity')`;
      return {
        insert: { reactions: added, reactionTimes: { [change.senderKey]: at } },
        set: {
          reactions: sql`${kept} || ${JSON.stringify(added)}::jsonb`,
          reactionTimes: sql`${messages.reactionTimes} || jsonb_build_object(${change.senderKey}::text, ${at}::text)`,
        },
        where: sql`${since} < ${at}::timestamptz
          or ${since} = ${at}::timestamptz and ${current} <> ${change.reaction}::text`,
      };
    }
  }
}

/**
 * Applies a follow-up event to a message. When the message has not arrived yet, a placeholder
 * row carries the change until it does (see the store statement, store-statement.ts).
 *
 * @returns the message as it is after the change, or undefined when the change was older than
 *   the state it would replace and was not applied.
 */
export async function applyMessageChange(
  tx: Tx,
  key: MessageKey,
  change: MessageChange,
): Promise<(MessageState & { state: string }) | undefined> {
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
      setWhere: columns.where,
    })
    .returning({ ...MESSAGE_STATE_COLUMNS, state: messages.state });
  return row;
}
