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

/** A refused send or retry: the HTTP status, the gateway's error code and, on a 429, the wait it asked for. */
export class SendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(`${status} ${code}`);
  }
}

/** The composer's status line (a wait after a rate limit), or none with `null`. */
function showComposerStatus(text: string | null): void {
  const line = document.getElementById('composer-status');
  if (!line) return;
  line.hidden = text === null;
  line.textContent = text ?? '';
}

let rateLimitTimer: ReturnType<typeof setInterval> | undefined;

/** Counts down a rate limit's wait under the reply box; not an error, the text stays to send again. */
function showRateLimited(seconds: number): void {
  clearInterval(rateLimitTimer);
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(rateLimitTimer);
      showComposerStatus(null);
      return;
    }
    showComposerStatus(`Rate limited, try again in ${left} s`);
  };
  tick();
  rateLimitTimer = setInterval(tick, 500);
}

/** Posts JSON, or a FormData as multipart (the browser sets its Content-Type with the boundary). */
async function post(token: string, path: string, body: unknown, key?: string): Promise<MessageItem> {
  const form = body instanceof FormData;
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(form ? {} : { 'content-type': 'application/json' }),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: form ? body : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new SendError(
      response.status,
      problem?.error?.code ?? 'HL_ERR_UNKNOWN',
      response.status === 429 && response.headers.has('retry-after') && Number.isFinite(retryAfter)
        ? Math.max(1, Math.ceil(retryAfter))
        : null,
    );
  }
  return (await response.json()) as MessageItem;
}

/** The file picker beside the reply box (files go as repeated `attachments` parts). */
function mountFilePicker(form: HTMLFormElement): HTMLInputElement {
  const picker = document.createElement('input');
  picker.type = 'file';
  picker.multiple = true;
  picker.id = 'composer-files';
  picker.title = 'Attach files';
  picker.setAttribute('aria-label', 'Attach files');
  form.insertBefore(picker, form.querySelector('button[type="submit"]'));
  return picker;
}

/** The send's body: JSON, or multipart/form-data when files are attached. */
function sendBody(accountId: string, text: string, files: readonly File[]): unknown {
  if (files.length === 0) return { accountId, text };
  const body = new FormData();
  body.append('accountId', accountId);
  body.append('text', text);
  for (const file of files) body.append('attachments', file, file.name);
  return body;
}

/**
 * The reply box under a conversation, with a file picker: sends with an Idempotency-Key, so a
 * double submit or a resubmitted request sends once, and shows the message at once as `pending`.
 * Returns the retry action for failed sends, which resolves whether the gateway took the retry.
 */
export function mountComposer(options: ComposerOptions): (localId: string) => Promise<boolean> {
  const form = document.getElementById('composer') as HTMLFormElement | null;
  const input = document.getElementById('composer-text') as HTMLTextAreaElement | null;
  const picker = form ? mountFilePicker(form) : undefined;
  // Enter sends; Shift+Enter is a new line (and Enter while an input method composes is its own).
  input?.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    form?.requestSubmit();
  });
  const refused = (error: unknown) => {
    if (error instanceof SendError && error.retryAfterSeconds !== null)
      showRateLimited(error.retryAfterSeconds);
    else options.onError(error);
  };
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const chat = options.openChat();
    const text = input?.value.trim() ?? '';
    if (!chat || !input || text === '') return;
    const path = `/api/chats/${encodeURIComponent(chat.chatId)}/messages`;
    const files = [...(picker?.files ?? [])];
    input.value = '';
    showComposerStatus(null);
    post(options.token(), path, sendBody(chat.accountId, text, files), crypto.randomUUID())
      .then((message) => {
        // Files stay picked until the gateway has them, so a refused send can be tried again.
        if (picker) picker.value = '';
        options.onAccepted(message);
      })
      .catch((error: unknown) => {
        input.value = text;
        refused(error);
      });
  });
  return async (localId) => {
    const chat = options.openChat();
    if (!chat) return false;
    const path = `/api/chats/${encodeURIComponent(chat.chatId)}/messages/${encodeURIComponent(localId)}/retry`;
    try {
      await post(options.token(), path, {});
      return true;
    } catch (error) {
      refused(error);
      return false;
    }
  };
}
