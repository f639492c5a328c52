import { accountTypeOf } from './accounts.js';
import type { ChatSummary, MessageItem } from './api.js';
import { chatTime, fullTime, type Network, networkOf } from './format.js';
import {
  type MessagePatch,
  messageElement,
  patchMessage,
  type SendDetails,
  showSendStatus,
} from './message-view.js';

/** DOM rendering of the inbox. Text is always set with textContent: message content is untrusted. */

export { setRetryHandler } from './message-view.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** One chat's key: chat ids are unique per account only. */
export const chatKey = (chat: { accountId: string; chatId: string }) =>
  `${chat.accountId}\u0000${chat.chatId}`;

/** The chat's subject, else the names of the other people in it, else its id. */
export function chatName(chat: ChatSummary): string {
  if (chat.subject) return chat.subject;
  const names = chat.attendees.map((attendee) => attendee.name).filter((name) => name && name !== 'Me');
  return names.length > 0 ? names.join(', ') : chat.chatId;
}

/** The network a chat is on: its own account type, else its account's. */
export function chatNetwork(chat: ChatSummary): Network | null {
  return networkOf(chat.accountType ?? accountTypeOf(chat.accountId));
}

function networkBadge(network: Network | null): HTMLSpanElement {
  const badge = document.createElement('span');
  badge.className = 'network';
  badge.dataset.network = network?.key ?? 'unknown';
  badge.textContent = network?.label ?? '';
  badge.hidden = network === null;
  return badge;
}

function span(className: string, text: string): HTMLSpanElement {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  return node;
}

function chatItem(chat: ChatSummary, openKey: string | null, onOpen: (chat: ChatSummary) => void) {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.chatId = chat.chatId;
  button.setAttribute('aria-current', String(chatKey(chat) === openKey));
  button.classList.toggle('unread', chat.unreadCount > 0);
  const name = span('chat-name', chatName(chat));
  if (chat.isGroup) name.prepend(span('group-marker', '👥 '));
  const time = document.createElement('time');
  time.className = 'chat-time';
  time.textContent = chatTime(chat.lastMessageAt);
  if (chat.lastMessageAt) {
    time.dateTime = chat.lastMessageAt;
    time.title = fullTime(chat.lastMessageAt);
  }
  const preview = span(
    'chat-preview',
    chat.lastMessagePreview === '[attachment]' ? '📎 Attachment' : (chat.lastMessagePreview ?? ''),
  );
  const side = span('chat-side', '');
  side.append(networkBadge(chatNetwork(chat)));
  if (chat.unreadCount > 0) {
    const badge = span('badge', String(chat.unreadCount));
    badge.setAttribute('aria-label', `${chat.unreadCount} unread`);
    side.append(badge);
  }
  button.append(name, time, preview, side);
  button.addEventListener('click', () => onOpen(chat));
  item.append(button);
  return item;
}

/** Draws the chat list, `openKey`'s chat marked current; a click calls `onOpen`. */
export function renderChats(
  chats: ChatSummary[],
  openKey: string | null,
  onOpen: (chat: ChatSummary) => void,
): void {
  byId<HTMLUListElement>('chat-list').replaceChildren(
    ...chats.map((chat) => chatItem(chat, openKey, onOpen)),
  );
  byId('chats-empty').hidden = chats.length > 0;
}

/** Shows a chat's messages (oldest first) under its name and network. */
export function renderConversation(chat: ChatSummary, messages: MessageItem[]): void {
  byId('chat-title').textContent = chatName(chat);
  byId('chat-network').replaceWith(Object.assign(networkBadge(chatNetwork(chat)), { id: 'chat-network' }));
  byId('messages').replaceChildren(...messages.map(messageElement));
  scrollToEnd();
}

/**
 * Adds older messages above the shown ones (those already shown are skipped), keeping what the
 * reader looks at in place.
 */
export function prependMessages(messages: MessageItem[]): void {
  const list = byId('messages');
  const fromBottom = list.scrollHeight - list.scrollTop;
  const fresh = messages.filter(
    (message) => !message.messageId || !findMessage(`[data-message-id="${CSS.escape(message.messageId)}"]`),
  );
  list.prepend(...fresh.map(messageElement));
  list.scrollTop = list.scrollHeight - fromBottom;
}

const findMessage = (selector: string) => byId('messages').querySelector<HTMLLIElement>(selector);
const byMessageId = (messageId: string) => findMessage(`[data-message-id="${CSS.escape(messageId)}"]`);

/** Adds a message at the end of the open chat, unless it is shown already. */
export function appendMessage(message: MessageItem): void {
  const shown = message.localId
    ? `[data-local-id="${CSS.escape(message.localId)}"]`
    : `[data-message-id="${CSS.escape(message.messageId ?? '')}"]`;
  if (findMessage(shown)) return;
  byId('messages').append(messageElement(message));
  scrollToEnd();
}

/** Applies an edit, a reaction or a deletion to a shown message, keeping its author and time. */
export function updateMessage(messageId: string, patch: MessagePatch): void {
  const item = byMessageId(messageId);
  if (item) patchMessage(item, patch);
}

/** Follows a sent message's status (and its provider id once known), with why it failed. */
export function updateSendStatus(
  localId: string,
  messageId: string | null,
  status: string,
  details: SendDetails = {},
): void {
  const item = findMessage(`[data-local-id="${CSS.escape(localId)}"]`);
  if (!item) return;
  if (messageId) {
    item.dataset.messageId = messageId;
    patchMessage(item, { messageId });
  }
  showSendStatus(item, localId, status, details);
}

function scrollToEnd(): void {
  const list = byId('messages');
  list.scrollTop = list.scrollHeight;
}

/** At phone width, which of the two panes shows. */
export function setView(view: 'list' | 'chat'): void {
  byId('layout').dataset.view = view;
}

/** The connection indicator: its state (for the dot's colour) and words. */
export function showConnection(state: string, text: string): void {
  const element = byId('connection');
  element.dataset.state = state;
  element.textContent = text;
}

/**
 * A notice above the page (trusted HTML written by this page), or none with `null`. A `transient`
 * one (the gateway was unreachable) goes once the connection is live again.
 */
export function showNotice(html: string | null, transient = false): void {
  const element = byId('notice');
  element.hidden = html === null;
  element.dataset.transient = String(transient);
  if (html !== null) element.innerHTML = html;
}

/** Removes a transient notice (the connection is back). */
export function clearTransientNotice(): void {
  if (byId('notice').dataset.transient === 'true') showNotice(null);
}
