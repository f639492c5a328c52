/** The inbox's REST reads, authorised with the same connection token as the socket. */

export interface ChatSummary {
  accountId: string;
  chatId: string;
  subject: string | null;
  attendees: { name: string | null }[];
  lastMessageAt: string | null;
  lastMessageId: string | null;
  lastMessagePreview: string | null;
  unreadCount: number;
}

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
  deletedAt?: string | null;
}

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
    markRead: (chat: ChatSummary) =>
      call(`/api/chats/${encodeURIComponent(chat.chatId)}/read`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: chat.accountId }),
      }),
  };
}
