import {
  createRealtimeClient,
  createTokenRefresher,
  type Envelope,
  type NewMessageData,
  tokenTimes,
} from '../realtime.js';
import { accountTypeOf, setAccounts, updateAccount } from './accounts.js';
import { ApiError, type ChatSummary, createApi } from './api.js';
import { setAttachmentLoader } from './attachments-view.js';
import { mountComposer } from './composer.js';
import { mountConnection, showTokenRefused } from './connection.js';
import { createPager, whenNearEnd, whenNearTop } from './history.js';
import { forgetToken, loginRefused, obtainToken, rememberToken } from './login.js';
import { mountSearch } from './search.js';
import {
  appendMessage,
  chatKey,
  prependMessages,
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

/** The tab's title starts with the unread count, so a background tab shows it. */
function showUnreadInTitle(): void {
  const unread = [...chats.values()].reduce((sum, chat) => sum + chat.unreadCount, 0);
  document.title = unread > 0 ? `(${unread}) Hookline inbox` : 'Hookline inbox';
}

function redraw(): void {
  renderChats(sortedChats(), openKey, (chat) => void openChat(chat));
  showUnreadInTitle();
}

function explain(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    forgetToken();
    showTokenRefused();
  } else showNotice('Could not reach the gateway. It retries on its own; reload to try again now.', true);
}

/** Older messages of the open chat, as the reader scrolls up. */
const olderMessages = createPager(async (cursor) => {
  const chat = openKey ? chats.get(openKey) : undefined;
  if (!chat) return null;
  const page = await api.messages(chat, cursor);
  if (openKey === chatKey(chat)) prependMessages(page.items);
  return page.nextCursor;
}, explain);

/** More chats, as the reader reaches the end of the list. */
const moreChats = createPager(async (cursor) => {
  const page = await api.chats(cursor);
  for (const chat of page.items) if (!chats.has(chatKey(chat))) chats.set(chatKey(chat), chat);
  redraw();
  return page.nextCursor;
}, explain);

/** Shows a chat's latest page; older ones load as the reader scrolls up. */
async function showChat(chat: ChatSummary): Promise<void> {
  olderMessages.reset(null);
  const page = await api.messages(chat);
  if (openKey !== chatKey(chat)) return;
  renderConversation(chat, page.items);
  olderMessages.reset(page.nextCursor);
  // A page that does not fill the pane cannot be scrolled: ask for the next one at once.
  document.getElementById('messages')?.dispatchEvent(new Event('scroll'));
}

async function openChat(chat: ChatSummary): Promise<void> {
  const known = chats.get(chatKey(chat));
  if (!known) chats.set(chatKey(chat), chat);
  openKey = chatKey(chat);
  setView('chat');
  redraw();
  try {
    await showChat(known ?? chat);
    const current = chats.get(chatKey(chat));
    if (current && current.unreadCount > 0) {
      current.unreadCount = 0;
      redraw();
      await api.markRead(current);
    }
  } catch (error) {
    explain(error);
  }
}

async function loadChats(): Promise<void> {
  const [page, accounts] = await Promise.all([api.chats(), api.accounts()]);
  setAccounts(accounts);
  chats.clear();
  for (const chat of page.items) chats.set(chatKey(chat), chat);
  moreChats.reset(page.nextCursor);
  redraw();
  document.getElementById('chats-pane')?.dispatchEvent(new Event('scroll'));
  const open = openKey ? chats.get(openKey) : undefined;
  if (open) await showChat(open);
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
  mountConnection({
    realtime,
    probe: () => api.accounts(),
    refused: (error) => error instanceof ApiError && error.status === 401,
  });
  realtime.on('status', (status) => {
    if (status.state !== 'closed' || status.reason !== 'revoked') return;
    forgetToken();
    showConnection('closed', 'Offline: session revoked');
    showNotice(`This page’s session was revoked. ${NEW_LINK}`);
  });
  realtime.on('message:new', onNewMessage);
  realtime.on('message:updated', (envelope) => {
    const data = envelope.data;
    if (data.change === 'status') {
      if (data.localId && data.status && chatKey(data) === openKey) {
        const failure = data as { reason?: string; error?: string };
        updateSendStatus(data.localId, data.messageId, data.status, {
          reason: failure.reason,
          error: failure.error,
        });
      }
      return;
    }
    if (chatKey(data) === openKey && data.messageId) {
      if (data.change === 'edited')
        updateMessage(data.messageId, { text: data.text, editedAt: data.editedAt });
      if (data.change === 'reaction') updateMessage(data.messageId, { reactions: data.reactions });
      if (data.change === 'read' || data.change === 'delivered') {
        updateMessage(data.messageId, { readAt: data.readAt ?? null, deliveredAt: data.deliveredAt ?? null });
      }
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
      onError: (error) => {
        if (error instanceof TypeError) {
          showNotice('Could not send: the gateway is unreachable. Your reply is still in the box.', true);
        } else if (error instanceof Error && /^40[13] /.test(error.message)) {
          showNotice('Could not send: this link’s token may not send (scope <code>send</code>).');
        } else showNotice(`Could not send (${error instanceof Error ? error.message : 'error'}).`, true);
      },
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

setAttachmentLoader((message, attachmentId) => api.attachment(message, attachmentId));
mountSearch({ api, open: (chat) => void openChat(chat), onError: explain });
whenNearTop(document.getElementById('messages')!, () => void olderMessages.more());
whenNearEnd(document.getElementById('chats-pane')!, () => void moreChats.more());

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
