import type { MessageItem, ReactionItem } from './api.js';
import { attachmentElement, toAttachment } from './attachments-view.js';
import { fullTime, messageTime } from './format.js';

/**
 * One message bubble: author and time, an `edited` marker, the text (or that it was deleted),
 * its attachments with name, type and size, its reactions grouped by emoji, and the send status
 * of a reply. Text is always set with textContent: message content is untrusted.
 */

const DELETED_TEXT = 'This message was deleted';

const element = <K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string) => {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
const stringOrNull = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

function toReaction(value: unknown): ReactionItem | null {
  const raw = record(value);
  if (typeof raw.reaction !== 'string' || raw.reaction === '') return null;
  return { reaction: raw.reaction, sender: { name: stringOrNull(record(raw.sender).name) } };
}

/** Reactions grouped by emoji, with a count and who reacted (in the tooltip). */
function reactionsElement(reactions: unknown[] | undefined): HTMLUListElement | null {
  const groups = new Map<string, string[]>();
  for (const reaction of (reactions ?? []).map(toReaction)) {
    if (!reaction) continue;
    const names = groups.get(reaction.reaction) ?? [];
    names.push(reaction.sender?.name ?? 'Someone');
    groups.set(reaction.reaction, names);
  }
  if (groups.size === 0) return null;
  const list = element('ul', 'reactions');
  list.setAttribute('aria-label', 'Reactions');
  for (const [emoji, names] of groups) {
    const item = element('li', 'reaction', emoji);
    item.dataset.reaction = emoji;
    item.title = names.join(', ');
    if (names.length > 1) item.append(element('span', 'reaction-count', String(names.length)));
    list.append(item);
  }
  return list;
}

/** Sets what a bubble shows of the message's state: text, deletion, edit, attachments, reactions. */
function fillBody(item: HTMLLIElement, message: MessageItem): void {
  const deleted = Boolean(message.deletedAt);
  item.classList.toggle('deleted', deleted);
  item.classList.toggle('edited', Boolean(message.editedAt) && !deleted);
  const text = item.querySelector<HTMLElement>('.text');
  if (text) {
    text.textContent = deleted ? DELETED_TEXT : (message.text ?? '');
    text.hidden = !deleted && !message.text;
  }
  const meta = item.querySelector('.meta');
  meta?.querySelector('.edited-marker')?.remove();
  if (message.editedAt && !deleted) {
    const marker = element('span', 'edited-marker', 'edited');
    marker.title = `Edited ${fullTime(message.editedAt)}`;
    meta?.append(marker);
  }
  item.querySelector('.attachments')?.remove();
  item.querySelector('.reactions')?.remove();
  if (deleted) return;
  const attachments = (message.attachments ?? []).map(toAttachment);
  if (attachments.length > 0) {
    const list = element('ul', 'attachments');
    list.setAttribute('aria-label', 'Attachments');
    list.append(...attachments.map((attachment) => attachmentElement(message, attachment)));
    text?.after(list);
  }
  const reactions = reactionsElement(message.reactions);
  if (reactions) (item.querySelector('.attachments') ?? text)?.after(reactions);
  showReceipt(item, message);
}

/** Ticks on an own message: ✓ sent, ✓✓ delivered, ✓✓ (coloured) read by the other side. */
function showReceipt(item: HTMLLIElement, message: MessageItem): void {
  item.querySelector('.receipt')?.remove();
  if (!message.isSender || !message.messageId || message.deletedAt) return;
  if (message.status && message.status !== 'sent') return;
  const state = message.readAt ? 'read' : message.deliveredAt ? 'delivered' : 'sent';
  const tick = element('span', 'receipt', state === 'sent' ? '✓' : '✓✓');
  tick.dataset.receipt = state;
  tick.title =
    state === 'read'
      ? `Read ${fullTime(message.readAt ?? null)}`
      : state === 'delivered'
        ? 'Delivered'
        : 'Sent';
  tick.setAttribute('aria-label', tick.title);
  item.dataset.receipt = state;
  item.querySelector('.meta')?.append(tick);
}

/** The state each bubble shows, so that a later change (a reaction, an edit) can be applied to it. */
const shown = new WeakMap<HTMLLIElement, MessageItem>();

/** A message bubble for the conversation. */
export function messageElement(message: MessageItem): HTMLLIElement {
  const item = element('li', `message${message.isSender ? ' mine' : ''}`);
  item.dataset.messageId = message.messageId ?? '';
  if (message.localId) item.dataset.localId = message.localId;
  const meta = element('span', 'meta');
  const author = element('span', 'author', message.isSender ? 'You' : (message.sender?.name ?? 'Unknown'));
  const time = element('time', 'sent-at', messageTime(message.sentAt));
  if (message.sentAt) {
    time.dateTime = message.sentAt;
    time.title = fullTime(message.sentAt);
  }
  meta.append(author, time);
  item.append(meta, element('span', 'text'));
  shown.set(item, { ...message });
  fillBody(item, message);
  if (message.localId && message.status) {
    showSendStatus(item, message.localId, message.status, { reason: message.reason, error: message.error });
  }
  return item;
}

/** What changed about a shown message; absent fields keep what it shows. */
export type MessagePatch = Partial<
  Pick<
    MessageItem,
    'text' | 'editedAt' | 'deletedAt' | 'reactions' | 'readAt' | 'deliveredAt' | 'messageId' | 'status'
  >
>;

/** Applies a change (edit, reaction, deletion) to a shown message in place. */
export function patchMessage(item: HTMLLIElement, patch: MessagePatch): void {
  const current = shown.get(item);
  if (!current) return;
  const next = { ...current, ...patch };
  shown.set(item, next);
  fillBody(item, next);
}

let onRetry: (localId: string) => Promise<boolean> = async () => false;

/** What the retry button of a failed send does; it resolves whether the gateway took the retry. */
export function setRetryHandler(handler: (localId: string) => Promise<boolean>): void {
  onRetry = handler;
}

/** A failed send's reason code in words (the codes the send queue reports). */
const REASONS: Record<string, string> = {
  unconfirmed: 'the provider never confirmed it',
  refused: 'the provider refused it',
  rate_limited: 'the provider is rate limiting this account',
  attempts_exhausted: 'the provider could not be reached after several attempts',
  files_unavailable: 'its files could not be loaded',
};

/** Why a send failed, or what a pending one waits for. */
export interface SendDetails {
  reason?: string | undefined;
  error?: string | undefined;
}

/** The status line of a sent message: pending, sent, unknown, or failed with its reason and a retry button. */
export function showSendStatus(
  item: HTMLLIElement,
  localId: string,
  status: string,
  details: SendDetails = {},
): void {
  item.dataset.status = status;
  item.querySelector('.send-status')?.remove();
  const current = shown.get(item);
  if (current) {
    current.status = status as MessageItem['status'];
    showReceipt(item, current);
  }
  if (status === 'sent') return;
  const words =
    status === 'unknown' ? 'checking with the provider…' : status === 'pending' ? 'sending…' : status;
  const line = element('span', 'send-status', words);
  if (status === 'failed') {
    const why = [details.reason ? (REASONS[details.reason] ?? details.reason) : null, details.error]
      .filter(Boolean)
      .join(': ');
    line.textContent = why ? `Not sent: ${why}` : 'Not sent';
    const retry = element('button', 'retry', 'Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => {
      // One click, one retry: a second before the status changes would be refused and spend budget.
      retry.disabled = true;
      void onRetry(localId).then((accepted) => {
        retry.disabled = accepted;
      });
    });
    line.append(' ', retry);
  } else if (details.error) {
    line.textContent = `${words} (${details.error})`;
  } else if (status === 'pending') {
    // The queue keeps trying while the provider is down: say so rather than spin in silence.
    setTimeout(() => {
      if (line.isConnected && item.dataset.status === 'pending') {
        line.textContent = 'sending… the provider has not confirmed yet; the gateway keeps trying';
      }
    }, PENDING_HINT_MS);
  }
  item.append(line);
}

/** How long a reply may stay `pending` before its line explains the wait. */
const PENDING_HINT_MS = 10_000;
