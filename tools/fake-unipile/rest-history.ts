import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UnipileMessagingPayload } from './payloads.js';

/** A REST message as the fake serves it (Unipile API v1 `Message`). */
export interface FakeRestMessage {
  object: 'Message';
  id: string;
  account_id: string;
  chat_id: string;
  chat_provider_id: string | null;
  provider_id: string | null;
  sender_id: string | null;
  sender_attendee_id: string | null;
  text: string | null;
  timestamp: string;
  is_sender: number;
  seen: number;
  delivered: number;
  edited: number;
  deleted: number;
  hidden: number;
  is_event: number;
  reactions: { value: string; sender_id: string; is_sender: number }[];
  attachments: unknown[];
  quoted: unknown;
}

interface FakeChat {
  id: string;
  accountId: string;
  accountType: string;
  providerId: string | null;
  name: string | null;
  isGroup: boolean;
  attendees: { id: string; provider_id: string; name: string; profile_url: string }[];
}

const order = (a: FakeRestMessage, b: FakeRestMessage) =>
  b.timestamp < a.timestamp ? -1 : b.timestamp > a.timestamp ? 1 : b.id < a.id ? -1 : b.id > a.id ? 1 : 0;

/**
 * The provider's REST view of what the fake sent: every webhook delivered (or dropped) is also
 * recorded here, so `GET /messages` serves a history consistent with the webhooks, with
 * edits, deletions, reactions and reads applied as the provider would report them.
 */
export class FakeRestHistory {
  readonly accounts = new Map<string, { id: string; type: string; status: string }>();
  readonly chats = new Map<string, FakeChat>();
  readonly #messages = new Map<string, FakeRestMessage>();
  readonly #byAccount = new Map<string, FakeRestMessage[]>();
  readonly #sorted = new Set<string>();

  /** Follow-ups recorded before their message, applied when it comes. */
  readonly #early = new Map<string, UnipileMessagingPayload[]>();

  /**
   * Records what one webhook says, as the provider's REST API would then show it: a retried
   * message is listed once, and a follow-up that came before its message applies once it is here.
   */
  record(payload: UnipileMessagingPayload): void {
    const timestamp = new Date(payload.timestamp).toISOString();
    if (payload.event === 'message_received') {
      if (this.#messages.has(payload.message_id)) return;
      if (!this.accounts.has(payload.account_id)) {
        this.accounts.set(payload.account_id, {
          id: payload.account_id,
          type: payload.account_type,
          status: 'OK',
        });
      }
      if (!this.chats.has(payload.chat_id)) {
        this.chats.set(payload.chat_id, {
          id: payload.chat_id,
          accountId: payload.account_id,
          accountType: payload.account_type,
          providerId: typeof payload.provider_chat_id === 'string' ? payload.provider_chat_id : null,
          name: typeof payload.subject === 'string' ? payload.subject : null,
          isGroup: payload.is_group === true || payload.is_group === 1,
          attendees: payload.attendees.map((attendee) => ({
            id: attendee.attendee_id,
            provider_id: attendee.attendee_provider_id,
            name: attendee.attendee_name,
            profile_url: attendee.attendee_profile_url ?? '',
          })),
        });
      }
      const isSender = payload.is_sender === true || payload.is_sender === 1;
      this.add({
        object: 'Message',
        id: payload.message_id,
        account_id: payload.account_id,
        chat_id: payload.chat_id,
        chat_provider_id: typeof payload.provider_chat_id === 'string' ? payload.provider_chat_id : null,
        provider_id: typeof payload.provider_message_id === 'string' ? payload.provider_message_id : null,
        sender_id: payload.sender.attendee_provider_id,
        sender_attendee_id: payload.sender.attendee_id,
        text: payload.message,
        timestamp,
        is_sender: isSender ? 1 : 0,
        seen: isSender ? 1 : 0,
        delivered: 1,
        edited: 0,
        deleted: 0,
        hidden: 0,
        is_event: 0,
        reactions: [],
        attachments: Array.isArray(payload.attachments) ? payload.attachments : [],
        quoted: payload.quoted ?? null,
      });
      const early = this.#early.get(payload.message_id) ?? [];
      this.#early.delete(payload.message_id);
      for (const followUp of early) this.record(followUp);
      return;
    }
    const message = this.#messages.get(payload.message_id);
    if (!message) {
      this.#early.set(payload.message_id, [...(this.#early.get(payload.message_id) ?? []), payload]);
      return;
    }
    if (payload.event === 'message_edited') Object.assign(message, { text: payload.message, edited: 1 });
    if (payload.event === 'message_deleted')
      Object.assign(message, { text: null, deleted: 1, attachments: [] });
    if (payload.event === 'message_read') message.seen = 1;
    if (payload.event === 'message_reaction') {
      const value = typeof payload.reaction === 'string' ? payload.reaction : '';
      const sender = payload.reaction_sender as { attendee_provider_id?: string } | undefined;
      const senderId = sender?.attendee_provider_id ?? '';
      const isSender = senderId !== '' && senderId === payload.account_info?.user_id ? 1 : 0;
      message.reactions = message.reactions.filter((entry) => entry.sender_id !== senderId);
      if (value) message.reactions.push({ value, sender_id: senderId, is_sender: isSender });
    }
  }

  /** Adds a message as the provider would list it (history Hookline never got a webhook for). */
  add(message: FakeRestMessage): void {
    this.#messages.set(message.id, message);
    const list = this.#byAccount.get(message.account_id) ?? [];
    list.push(message);
    this.#byAccount.set(message.account_id, list);
    this.#sorted.delete(message.account_id);
  }

  message(id: string): FakeRestMessage | undefined {
    return this.#messages.get(id);
  }

  /** An account's messages newest first, strictly inside (after, before), strictly below the cursor. */
  page(query: { accountId: string; after?: string; before?: string; cursor?: string; limit: number }) {
    const list = this.#byAccount.get(query.accountId) ?? [];
    if (!this.#sorted.has(query.accountId)) {
      list.sort(order);
      this.#sorted.add(query.accountId);
    }
    const below = query.cursor
      ? (JSON.parse(Buffer.from(query.cursor, 'base64url').toString()) as [string, string])
      : null;
    const items: FakeRestMessage[] = [];
    for (const message of list) {
      if (query.before && message.timestamp >= query.before) continue;
      if (query.after && message.timestamp <= query.after) break;
      if (
        below &&
        (message.timestamp > below[0] || (message.timestamp === below[0] && message.id >= below[1]))
      )
        continue;
      items.push(message);
      if (items.length === query.limit) break;
    }
    const last = items.at(-1);
    const more = last !== undefined && items.length === query.limit;
    return {
      object: 'MessageList',
      items,
      cursor: more ? Buffer.from(JSON.stringify([last.timestamp, last.id])).toString('base64url') : null,
    };
  }
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function notFound(reply: FastifyReply, request: FastifyRequest) {
  return reply.status(404).send({
    title: 'Resource not found',
    detail: 'Resource not found (fake Unipile)',
    instance: request.url,
    type: 'errors/resource_not_found',
    status: 404,
  });
}

/** `GET /accounts`, `/messages`, `/chats/{id}`, `/chats/{id}/attendees` over a {@link FakeRestHistory}. */
export function restHistoryRoutes(api: FastifyInstance, history: FakeRestHistory): void {
  api.get('/accounts', async () => ({
    object: 'AccountList',
    items: [...history.accounts.values()].map((account) => ({
      object: 'Account',
      id: account.id,
      type: account.type,
      name: account.id,
      sources: [{ id: `${account.id}_MESSAGING`, status: account.status }],
    })),
    cursor: null,
  }));

  api.get('/messages', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const bad = [query.after, query.before].some((value) => value !== undefined && !TIME.test(value));
    const limit = Number(query.limit ?? 100);
    if (!query.account_id || bad || !Number.isInteger(limit) || limit < 1 || limit > 250) {
      return reply.status(400).send({
        title: 'Invalid parameters',
        detail: 'Invalid parameters (fake Unipile)',
        type: 'errors/invalid_parameters',
        status: 400,
      });
    }
    return history.page({
      accountId: query.account_id,
      limit,
      ...(query.after ? { after: query.after } : {}),
      ...(query.before ? { before: query.before } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
  });

  api.get('/chats/:id', async (request, reply) => {
    const chat = history.chats.get((request.params as { id: string }).id);
    if (!chat) return notFound(reply, request);
    return {
      object: 'Chat',
      id: chat.id,
      account_id: chat.accountId,
      account_type: chat.accountType,
      provider_id: chat.providerId,
      name: chat.name,
      type: chat.isGroup ? 1 : 0,
    };
  });

  api.get('/chats/:id/attendees', async (request, reply) => {
    const chat = history.chats.get((request.params as { id: string }).id);
    if (!chat) return notFound(reply, request);
    return {
      object: 'ChatAttendeeList',
      items: chat.attendees.map((attendee) => ({ object: 'ChatAttendee', ...attendee })),
      cursor: null,
    };
  });
}
