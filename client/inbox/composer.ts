import type { ChatSummary, MessageItem } from './api.js';

/** What the composer needs from the page. */
export interface ComposerOptions {
  /** The current connection token (the page refreshes it); it must carry the `send` scope (docs/sending.md). */
  token: () => string;
  /** The chat open now, if any. */
  openChat: () => ChatSummary | undefined;
  /** Shows the stored message at once, as `pending`. */
  onAccepted: (message: MessageItem) => void;
  /** Explains a refusal (no send scope, gateway unreachable, …). */
  onError: (error: unknown) => void;
}

/** A refused send or retry: the HTTP status and the gateway's error code. */
export class SendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`${status} ${code}`);
  }
}

async function post(token: string, path: string, body: unknown, key?: string): Promise<MessageItem> {
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
    throw new SendError(response.status, problem?.error?.code ?? 'HL_ERR_UNKNOWN');
  }
  return (await response.json()) as MessageItem;
}

/**
 * The reply box under a conversation: sends with an Idempotency-Key, so a double submit or a
 * resubmitted request sends once, and shows the message at once as `pending`. Returns the retry
 * action for failed sends.
 */
export function mountComposer(options: ComposerOptions): (localId: string) => void {
  const form = document.getElementById('composer') as HTMLFormElement | null;
  const input = document.getElementById('composer-text') as HTMLTextAreaElement | null;
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const chat = options.openChat();
    const text = input?.value.trim() ?? '';
    if (!chat || !input || text === '') return;
    const path = `/api/chats/${encodeURIComponent(chat.chatId)}/messages`;
    input.value = '';
    post(options.token(), path, { accountId: chat.accountId, text }, crypto.randomUUID())
      .then(options.onAccepted)
      .catch((error: unknown) => {
        input.value = text;
        options.onError(error);
      });
  });
  return (localId) => {
    const chat = options.openChat();
    if (!chat) return;
    const path = `/api/chats/${encodeURIComponent(chat.chatId)}/messages/${encodeURIComponent(localId)}/retry`;
    post(options.token(), path, {}).catch(options.onError);
  };
}
