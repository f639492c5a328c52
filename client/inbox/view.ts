import type { ChatSummary, MessageItem } from './api.js';

/** DOM rendering of the inbox. Text is always set with textContent: message content is untrusted. */

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const chatKey = (chat: { accountId: string; chatId: string }) =>
  `${chat.accountId}\u0000${chat.chatId}`;

function chatName(chat: ChatSummary): string {
  if (chat.subject) return chat.subject;
  const names = chat.attendees.map((attendee) => attendee.name).filter((name) => name && name !== 'Me');
  return names.length > 0 ? names.join(', ') : chat.chatId;
}

export function renderChats(
  chats: ChatSummary[],
  openKey: string | null,
  onOpen: (chat: ChatSummary) => void,
): void {
  const list = byId<HTMLUListElement>('chat-list');
  list.replaceChildren(
    ...chats.map((chat) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.chatId = chat.chatId;
      button.setAttribute('aria-current', String(chatKey(chat) === openKey));
      const name = document.createElement('span');
      name.className = 'chat-name';
      name.textContent = chatName(chat);
      const preview = document.createElement('span');
      preview.className = 'chat-preview';
      preview.textContent = chat.lastMessagePreview ?? '';
      button.append(name, preview);
      if (chat.unreadCount > 0) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = String(chat.unreadCount);
        badge.setAttribute('aria-label', `${chat.unreadCount} unread`);
        button.append(badge);
      }
      button.addEventListener('click', () => onOpen(chat));
      item.append(button);
      return item;
    }),
  );
  byId('chats-empty').hidden = chats.length > 0;
}

function messageElement(message: MessageItem): HTMLLIElement {
  const item = document.createElement('li');
  item.className = `message${message.isSender ? ' mine' : ''}${message.deletedAt ? ' deleted' : ''}`;
  item.dataset.messageId = message.messageId ?? '';
  if (message.localId) item.dataset.localId = message.localId;
  const meta = document.createElement('span');
  meta.className = 'meta';
  const time = message.sentAt ? new Date(message.sentAt).toLocaleTimeString() : '';
  meta.textContent = `${message.isSender ? 'You' : (message.sender?.name ?? 'Unknown')} · ${time}`;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.deletedAt ? 'Message deleted' : (message.text ?? '[attachment]');
  item.append(meta, text);
  if (message.localId && message.status) showSendStatus(item, message.localId, message.status);
  return item;
}

let onRetry: (localId: string) => void = () => {};

/** What the retry button of a failed send does. */
export function setRetryHandler(handler: (localId: string) => void): void {
  onRetry = handler;
}

/** The status line of a sent message: pending, sent, unknown, or failed with a retry button. */
function showSendStatus(item: HTMLLIElement, localId: string, status: string): void {
  item.dataset.status = status;
  item.querySelector('.send-status')?.remove();
  const line = document.createElement('span');
  line.className = 'send-status';
  line.textContent = status === 'unknown' ? 'checking…' : status;
  if (status === 'failed') {
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry';
    retry.textContent = 'Retry';
    retry.addEventListener('click', () => onRetry(localId));
    line.append(' ', retry);
  }
  item.append(line);
}

/** Follows a sent message's status (and its provider id once known). */
export function updateSendStatus(localId: string, messageId: string | null, status: string): void {
  const item = byId('messages').querySelector<HTMLLIElement>(`[data-local-id="${CSS.escape(localId)}"]`);
  if (!item) return;
  if (messageId) item.dataset.messageId = messageId;
  showSendStatus(item, localId, status);
}

export function renderConversation(title: string, messages: MessageItem[]): void {
  byId('chat-title').textContent = title;
  byId('messages').replaceChildren(...messages.map(messageElement));
  scrollToEnd();
}

export function appendMessage(message: MessageItem): void {
  const list = byId('messages');
  const shown = message.localId
    ? `[data-local-id="${CSS.escape(message.localId)}"]`
    : `[data-message-id="${CSS.escape(message.messageId ?? '')}"]`;
  if (list.querySelector(shown)) return;
  list.append(messageElement(message));
  scrollToEnd();
}

/** Updates a shown message's text in place (an edit or a deletion), keeping its author and time. */
export function updateMessage(messageId: string, text: string | null, deleted: boolean): void {
  const item = byId('messages').querySelector<HTMLLIElement>(`[data-message-id="${CSS.escape(messageId)}"]`);
  if (!item) return;
  item.classList.toggle('deleted', deleted);
  const body = item.querySelector('.text');
  if (body) body.textContent = deleted ? 'Message deleted' : (text ?? '[attachment]');
}

function scrollToEnd(): void {
  const list = byId('messages');
  list.scrollTop = list.scrollHeight;
}

export function setView(view: 'list' | 'chat'): void {
  byId('layout').dataset.view = view;
}

export function showConnection(state: string, text: string): void {
  const element = byId('connection');
  element.dataset.state = state;
  element.textContent = text;
}

export function showNotice(html: string | null): void {
  const element = byId('notice');
  element.hidden = html === null;
  if (html !== null) element.innerHTML = html;
}

export { chatName };
