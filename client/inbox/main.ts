import {
  createRealtimeClient,
  createTokenRefresher,
  type Envelope,
  type NewMessageData,
  tokenTimes,
} from '../realtime.js';
import { accountTypeOf, setAccounts, updateAccount } from './accounts.js';
import { ApiError, type ChatSummary, createApi } from './api.js';
import { mountComposer } from './composer.js';
import { forgetToken, loginRefused, obtainToken, rememberToken } from './login.js';
import {
  appendMessage,
  chatKey,
  renderChats,
  renderConversation,
  setRetryHandler,
  setView,
  showConnection,
  showNotice,
  updateMessage,
  updateSendStatus,
} from './view.js';

/**
 * The inbox page: REST for the first load (and after a reset), the realtime client for
 * everything after. Its session comes from the login link `npm start` or `npm run inbox-link`
 * prints, or a host app's `?token=` (./login.ts); each token lives minutes, so the page renews it
 * until the session ends.
 */
let currentToken = '';
const NEW_LINK = 'Run <code>npm run inbox-link</code> and open the new link it prints.';
const chats = new Map<string, ChatSummary>();
let openKey: string | null = null;

function sortedChats(): ChatSummary[] {
  return [...chats.values()].sort((a, b) => (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? ''));
}

function redraw(): void {
  renderChats(sortedChats(), openKey, (chat) => void openChat(chat));
}

function explain(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    showNotice(`This page’s session has ended or was revoked. ${NEW_LINK}`);
  } else {
    showNotice('Could not reach the gateway. It retries on its own; reload to try again now.');
  }
}

async function openChat(chat: ChatSummary): Promise<void> {
  openKey = chatKey(chat);
  setView('chat');
  redraw();
  try {
    renderConversation(chat, await api.messages(chat));
    if (chat.unreadCount > 0) {
      chat.unreadCount = 0;
      redraw();
      await api.markRead(chat);
    }
  } catch (error) {
    explain(error);
  }
}

async function loadChats(): Promise<void> {
  const [items, accounts] = await Promise.all([api.chats(), api.accounts()]);
  setAccounts(accounts);
  chats.clear();
  for (const chat of items) chats.set(chatKey(chat), chat);
  redraw();
  const open = openKey ? chats.get(openKey) : undefined;
  if (open) renderConversation(open, await api.messages(open));
}

function onNewMessage(envelope: Envelope<'message:new'>): void {
  const data: NewMessageData = envelope.data;
  const key = chatKey(data);
  // A chat of an account the page has not heard of yet: learn its network.
  if (!chats.has(key) && accountTypeOf(data.accountId) === null) {
    void api.accounts().then(setAccounts).then(redraw).catch(explain);
  }
  const chat = chats.get(key) ?? {
    accountId: data.accountId,
    chatId: data.chatId,
    subject: null,
    attendees: data.sender && !data.isSender ? [{ name: data.sender.name }] : [],
    lastMessageAt: null,
    lastMessageId: null,
    lastMessagePreview: null,
    unreadCount: 0,
  };
  chat.lastMessageAt = data.sentAt ?? envelope.ts;
  chat.lastMessageId = data.messageId;
  chat.lastMessagePreview = data.text ?? (data.attachments.length > 0 ? '[attachment]' : null);
  if (key === openKey) {
    appendMessage(data);
    if (!data.isSender) void api.markRead(chat).catch(explain);
  } else if (!data.isSender) {
    chat.unreadCount++;
  }
  chats.set(key, chat);
  redraw();
}

/** The chat list follows an edit or a deletion of the message a chat shows, as the server does. */
function followLastMessage(
  data: { accountId: string; chatId: string; messageId: string | null },
  preview: string | null,
) {
  const chat = chats.get(chatKey(data));
  if (!chat || chat.lastMessageId !== data.messageId) return;
  chat.lastMessagePreview = preview;
  redraw();
}

const api = createApi(() => currentToken);

/** Renews the token before it expires, for the socket and the REST reads alike. */
function keepTokenFresh(initial: string): void {
  createTokenRefresher({
    baseUrl: location.origin,
    token: initial,
    onToken: (next) => {
      currentToken = next;
      rememberToken(next);
    },
    onExpired: () => {
      forgetToken();
      showNotice(`This page’s session has expired. ${NEW_LINK}`);
    },
  });
}

function start(realtimeToken: string): void {
  const times = tokenTimes(realtimeToken);
  if (times && times.exp <= Date.now() / 1000) {
    forgetToken();
    showNotice(`This page’s session has expired. ${NEW_LINK}`);
    showConnection('closed', 'Offline');
    return;
  }
  keepTokenFresh(realtimeToken);
  loadChats().catch(explain);
  const wsUrl = new URL('/ws/messages', location.href);
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const realtime = createRealtimeClient({ url: wsUrl.toString(), getToken: () => currentToken });
  let countdown: ReturnType<typeof setInterval> | undefined;
  realtime.on('status', (status) => {
    clearInterval(countdown);
    if (status.state === 'open') showConnection('open', 'Live');
    else if (status.state === 'closed') {
      showConnection('closed', 'Offline');
      if (status.reason === 'revoked') {
        forgetToken();
        showNotice(`This page’s session was revoked. ${NEW_LINK}`);
      }
    } else if (status.state === 'connecting') showConnection('connecting', 'Connecting…');
    else {
      const until = Date.now() + status.delayMs;
      const tick = () =>
        showConnection(
          'reconnecting',
          `Reconnecting in ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s`,
        );
      tick();
      countdown = setInterval(tick, 250);
    }
  });
  realtime.on('message:new', onNewMessage);
  realtime.on('message:updated', (envelope) => {
    const data = envelope.data;
    if (data.change === 'status') {
      if (data.localId && data.status && chatKey(data) === openKey) {
        updateSendStatus(data.localId, data.messageId, data.status);
      }
      return;
    }
    if (chatKey(data) === openKey && data.messageId) {
      if (data.change === 'edited')
        updateMessage(data.messageId, { text: data.text, editedAt: data.editedAt });
      if (data.change === 'reaction') updateMessage(data.messageId, { reactions: data.reactions });
    }
    if (data.change === 'edited') followLastMessage(data, data.text);
  });
  setRetryHandler(
    mountComposer({
      token: () => currentToken,
      openChat: () => (openKey ? chats.get(openKey) : undefined),
      onAccepted: (message) => {
        if (openKey && chatKey(message) === openKey) appendMessage(message);
      },
      onError: () =>
        showNotice(
          'Could not send: this link’s token may not send (scope <code>send</code>), or the gateway is unreachable.',
        ),
    }),
  );
  realtime.on('message:deleted', (envelope) => {
    if (chatKey(envelope.data) === openKey) {
      updateMessage(envelope.data.messageId, { deletedAt: envelope.data.deletedAt ?? envelope.ts });
    }
    followLastMessage(envelope.data, null);
  });
  realtime.on('chat:read', (envelope) => {
    const chat = chats.get(chatKey(envelope.data));
    if (chat) {
      chat.unreadCount = 0;
      redraw();
    }
  });
  realtime.on('account:status', (envelope) => {
    updateAccount(envelope.data);
    redraw();
  });
  realtime.on('reset', () => void loadChats().catch(explain));
}

document.getElementById('back')?.addEventListener('click', () => {
  openKey = null;
  setView('list');
  redraw();
});

void obtainToken().then((token) => {
  if (token) {
    currentToken = token;
    start(token);
  } else if (!loginRefused()) {
    showConnection('closed', 'Offline');
    showNotice(
      `Not signed in: open the link <code>npm start</code> prints, or get a new one. ${NEW_LINK} (A host app can mint a token with <code>POST /api/realtime/tokens</code> and add <code>?token=…</code>.)`,
    );
  }
}, explain);
