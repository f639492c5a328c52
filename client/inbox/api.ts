/** The inbox's REST reads, authorised with the same connection token as the socket. */

/** A chat as `GET /api/chats` gives it (the fields the page uses). */
export interface ChatSummary {
  accountId: string;
  chatId: string;
  /** The account's network as the provider names it (`LINKEDIN`, `WHATSAPP`, …), when known. */
  accountType?: string | null;
  isGroup?: boolean;
  subject: string | null;
  attendees: { name: string | null }[];
  lastMessageAt: string | null;
  lastMessageId: string | null;
  lastMessagePreview: string | null;
  unreadCount: number;
}

/** An attachment as the model holds it (the provider's file stays at the provider). */
export interface AttachmentItem {
  type: string | null;
  mimetype: string | null;
  filename: string | null;
  fileSize: number | null;
  unavailable?: boolean;
}

/** One person's current reaction to a message. */
export interface ReactionItem {
  reaction: string;
  sender: { name: string | null } | null;
}

/** A message as `GET /api/chats/:chatId/messages` and `message:new` give it. */
export interface MessageItem {
  accountId: string;
  chatId: string;
  messageId: string | null;
  localId?: string;
  status?: 'pending' | 'sent' | 'failed' | 'unknown';
  text: string | null;
  sender: { name: string | null } | null;
  isSender: boolean;
  sentAt: string | null;
  attachments?: unknown[];
  reactions?: unknown[];
  editedAt?: string | null;
  deletedAt?: string | null;
  /** When the other side read or received an own message (the ticks). */
  readAt?: string | null;
  deliveredAt?: string | null;
  /** Why a send failed: a stable code (`unconfirmed`, `refused`, `rate_limited`, …) and the provider's words. */
  reason?: string;
  error?: string;
}

/** One page of a list: its items and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A message that matched a search: where the matched words are in its snippet. */
export interface MessageHit {
  accountId: string;
  chatId: string;
  messageId: string;
  sentAt: string | null;
  sender: { name: string | null } | null;
  isSender: boolean;
  snippet: string;
  highlights: [number, number][];
  chat: Pick<ChatSummary, 'subject' | 'attendees' | 'isGroup' | 'accountType'>;
}

/** `GET /api/search`: chats by name (first page only) and messages, best first. */
export interface SearchAnswer extends Page<MessageHit> {
  chats: ChatSummary[];
}

/** An account and its last status (`GET /api/accounts`). */
export interface AccountItem {
  accountId: string;
  accountType: string | null;
  status: string | null;
}

/** A refused read: the HTTP status and the gateway's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`${status} ${code}`);
  }
}

const PAGE = 50;
const query = (parameters: Record<string, string | null | undefined>) =>
  new URLSearchParams(
    Object.entries(parameters).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  ).toString();

/** The read API, authorised with whatever token `token()` returns now (it is refreshed). */
export function createApi(token: () => string) {
  const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const response = await fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${token()}`, ...init.headers },
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
      throw new ApiError(response.status, body?.error?.code ?? 'HL_ERR_UNKNOWN');
    }
    return (await response.json()) as T;
  };
  return {
    /** One page of chats, newest activity first. */
    chats: (cursor?: string | null) =>
      call<Page<ChatSummary>>(`/api/chats?${query({ limit: String(PAGE), cursor })}`),
    /** One page of a chat's messages, oldest first, older than `cursor`. */
    messages: async (chat: ChatSummary, cursor?: string | null) => {
      const page = await call<Page<MessageItem>>(
        `/api/chats/${encodeURIComponent(chat.chatId)}/messages?${query({ limit: String(PAGE), accountId: chat.accountId, cursor })}`,
      );
      return { items: page.items.reverse(), nextCursor: page.nextCursor };
    },
    accounts: () => call<{ items: AccountItem[] }>('/api/accounts').then((page) => page.items),
    markRead: (chat: ChatSummary) =>
      call(`/api/chats/${encodeURIComponent(chat.chatId)}/read`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: chat.accountId }),
      }),
    search: (text: string, cursor?: string | null) =>
      call<SearchAnswer>(`/api/search?${query({ q: text, limit: '20', cursor })}`),
    /** One file of a message, as a Blob (the route needs the token, so an <img src> cannot). */
    attachment: async (message: { accountId: string; messageId: string }, attachmentId: string) => {
      const path = `/api/messages/${encodeURIComponent(message.messageId)}/attachments/${encodeURIComponent(attachmentId)}`;
      const response = await fetch(`${path}?${query({ accountId: message.accountId })}`, {
        headers: { authorization: `Bearer ${token()}` },
      });
      if (!response.ok) throw new ApiError(response.status, 'HL_ERR_ATTACHMENT');
      return response.blob();
    },
  };
}

/** The read API's calls, as {@link createApi} makes them. */
export type InboxApi = ReturnType<typeof createApi>;
