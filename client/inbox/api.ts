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
    chats: () => call<{ items: ChatSummary[] }>('/api/chats?limit=100').then((page) => page.items),
    messages: (chat: ChatSummary) =>
      call<{ items: MessageItem[] }>(
        `/api/chats/${encodeURIComponent(chat.chatId)}/messages?limit=100&accountId=${encodeURIComponent(chat.accountId)}`,
      ).then((page) => page.items.reverse()),
    accounts: () => call<{ items: AccountItem[] }>('/api/accounts').then((page) => page.items),
    markRead: (chat: ChatSummary) =>
      call(`/api/chats/${encodeURIComponent(chat.chatId)}/read`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: chat.accountId }),
      }),
  };
}
