import type { Executor } from '../db/database.js';
import type { Sender } from '../providers/events.js';
import {
  type ChatDetails,
  chatDetails,
  isTransientProviderError,
  type RestAttendee,
  type RestChat,
  type UnipileRestClient,
} from '../providers/unipile/index.js';
import { storableJson } from '../shared/storable.js';
import { knownChats } from './queries/sync.js';

/** Chats remembered per sync run before the cache starts over (memory stays bounded). */
const MAX_CACHED = 2_000;

/**
 * A chat as the provider shows it: `GET /chats/{id}` and its attendees. A chat the provider no
 * longer knows (404) has none; a transient failure (after the client's backoff) or a refused key
 * throws. An attendee listing the provider would not let end (a cycling cursor, too many pages, an
 * answer too large) leaves the chat without attendees rather than failing its sync page: one
 * chat must not stop an account's sync.
 */
export async function fetchChatDetails(
  client: UnipileRestClient,
  chatId: string,
  signal?: AbortSignal,
): Promise<ChatDetails | undefined> {
  try {
    const [chat, attendees] = await Promise.all([
      client.getChat(chatId, signal),
      client.listChatAttendees(chatId, signal).catch((error: unknown) => {
        if (misbehaved(error)) return [];
        throw error;
      }),
    ]);
    // The same cleaning as webhooks: a name or attendee cut mid-emoji must not fail the page.
    return chatDetails(storableJson(chat) as RestChat, storableJson(attendees) as RestAttendee[]);
  } catch (error) {
    if (isTransientProviderError(error) || !isNotFound(error)) throw error;
    return undefined;
  }
}

/** Whether stored attendees name anyone: a chat without them is one Hookline has no details for. */
export function hasAttendees(attendees: unknown): attendees is Sender[] {
  return Array.isArray(attendees) && attendees.length > 0;
}

/**
 * The details of the chats a sync page names: attendees Hookline stored for chats it knows, and
 * for chats it has never seen, `GET /chats/{id}` and its attendees (for sender names). A chat the
 * provider no longer knows (404) gets none rather than failing the page.
 */
export class ChatDetailsCache {
  readonly #client: UnipileRestClient;
  readonly #db: () => Executor;
  readonly #cache = new Map<string, ChatDetails | undefined>();

  constructor(client: UnipileRestClient, db: () => Executor) {
    this.#client = client;
    this.#db = db;
  }

  async resolve(
    accountId: string,
    chatIds: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, ChatDetails | undefined>> {
    const wanted = [...new Set(chatIds)].filter((id) => !this.#cache.has(id));
    if (this.#cache.size + wanted.length > MAX_CACHED) this.#cache.clear();
    const stored = new Map((await knownChats(this.#db(), accountId, wanted)).map((chat) => [chat.id, chat]));
    for (const id of wanted) {
      const chat = stored.get(id);
      if (chat && Array.isArray(chat.attendees)) {
        this.#cache.set(id, {
          providerChatId: null,
          accountType: null,
          subject: null,
          isGroup: null,
          attendees: chat.attendees as Sender[],
        });
      } else {
        this.#cache.set(id, await fetchChatDetails(this.#client, id, signal));
      }
    }
    return new Map([...new Set(chatIds)].map((id) => [id, this.#cache.get(id)]));
  }
}

/** Whether a provider read was refused for its shape (`details.reason`, see bounded-read.ts). */
function misbehaved(error: unknown): boolean {
  return typeof (error as { details?: { reason?: unknown } }).details?.reason === 'string';
}

function isNotFound(error: unknown): boolean {
  return (error as { details?: { status?: number } }).details?.status === 404;
}
