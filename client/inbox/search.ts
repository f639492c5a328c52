import type { ChatSummary, InboxApi, MessageHit, SearchAnswer } from './api.js';
import { messageTime } from './format.js';
import { chatName } from './view.js';

/**
 * The search box above the chat list: as the reader types (after a short pause) it asks
 * `GET /api/search`, and shows matching chats and messages in place of the list, matched words
 * marked; "More results" loads the next page. Clearing the box brings the list back.
 */

/** What search needs from the page. */
export interface SearchOptions {
  api: InboxApi;
  /** Opens a chat the results name (a chat hit, or a message hit's chat). */
  open: (chat: ChatSummary) => void;
  onError: (error: unknown) => void;
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** `text` with the `[start, end)` ranges wrapped in <mark>, as DOM nodes (the text stays text). */
export function highlighted(text: string, ranges: [number, number][]): Node[] {
  const nodes: Node[] = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at || end > text.length) continue;
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)));
    const mark = document.createElement('mark');
    mark.textContent = text.slice(start, end);
    nodes.push(mark);
    at = end;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

const asChat = (hit: MessageHit): ChatSummary => ({
  accountId: hit.accountId,
  chatId: hit.chatId,
  subject: hit.chat.subject,
  attendees: hit.chat.attendees,
  isGroup: hit.chat.isGroup,
  accountType: hit.chat.accountType,
  lastMessageAt: null,
  lastMessageId: null,
  lastMessagePreview: null,
  unreadCount: 0,
});

function resultButton(title: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'search-hit';
  const name = document.createElement('span');
  name.className = 'chat-name';
  name.textContent = title;
  button.append(name);
  button.addEventListener('click', onClick);
  return button;
}

/** Wires the search box. */
export function mountSearch(options: SearchOptions): void {
  const input = byId<HTMLInputElement>('search-input');
  const results = byId<HTMLElement>('search-results');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = 0;

  const showList = (searching: boolean) => {
    results.hidden = !searching;
    byId('chat-list').hidden = searching;
    byId('layout').dataset.searching = String(searching);
  };

  const render = (answer: SearchAnswer, query: string, append: boolean) => {
    if (!append) results.replaceChildren();
    results.querySelector('.search-more')?.remove();
    for (const chat of answer.chats) {
      const button = resultButton(chatName(chat), () => options.open(chat));
      button.dataset.chatId = chat.chatId;
      button.classList.add('search-chat');
      results.append(button);
    }
    for (const hit of answer.items) {
      const button = resultButton(chatName(asChat(hit)), () => options.open(asChat(hit)));
      button.dataset.chatId = hit.chatId;
      button.dataset.messageId = hit.messageId;
      button.classList.add('search-message');
      const snippet = document.createElement('span');
      snippet.className = 'search-snippet';
      const who = hit.isSender ? 'You' : (hit.sender?.name ?? '');
      snippet.append(who ? `${who}: ` : '', ...highlighted(hit.snippet, hit.highlights));
      const time = document.createElement('time');
      time.className = 'chat-time';
      time.textContent = messageTime(hit.sentAt);
      button.append(time, snippet);
      results.append(button);
    }
    if (!append && answer.chats.length === 0 && answer.items.length === 0) {
      const none = document.createElement('p');
      none.className = 'empty';
      none.textContent = `Nothing matches “${query}”.`;
      results.append(none);
    }
    if (answer.nextCursor) {
      const more = resultButton('More results', () => void run(query, answer.nextCursor));
      more.classList.add('search-more');
      results.append(more);
    }
  };

  const run = async (query: string, cursor: string | null = null) => {
    const ticket = ++asked;
    try {
      const answer = await options.api.search(query, cursor);
      if (ticket === asked && input.value.trim() === query) render(answer, query, cursor !== null);
    } catch (error) {
      options.onError(error);
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const query = input.value.trim();
    showList(query !== '');
    if (query === '') {
      asked++;
      results.replaceChildren();
      return;
    }
    timer = setTimeout(() => void run(query), 250);
  });
  byId<HTMLFormElement>('search').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (input.value.trim() !== '') void run(input.value.trim());
  });
}
