import type { AttachmentItem, MessageItem, ReactionItem } from './api.js';
import { formatBytes, fullTime, messageTime } from './format.js';

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

/** An attachment from the model, read defensively (the model keeps what the provider sent). */
function toAttachment(value: unknown): AttachmentItem {
  const raw = record(value);
  return {
    type: stringOrNull(raw.type),
    mimetype: stringOrNull(raw.mimetype),
    filename: stringOrNull(raw.filename),
    fileSize: typeof raw.fileSize === 'number' ? raw.fileSize : null,
    unavailable: raw.unavailable === true,
  };
}

function toReaction(value: unknown): ReactionItem | null {
  const raw = record(value);
  if (typeof raw.reaction !== 'string' || raw.reaction === '') return null;
  return { reaction: raw.reaction, sender: { name: stringOrNull(record(raw.sender).name) } };
}

const KINDS: Record<string, { icon: string; name: string }> = {
  img: { icon: '🖼️', name: 'Photo' },
  video: { icon: '🎬', name: 'Video' },
  audio: { icon: '🎙️', name: 'Voice message' },
  file: { icon: '📄', name: 'File' },
};

function attachmentElement(attachment: AttachmentItem): HTMLLIElement {
  const kind = KINDS[attachment.type ?? ''] ?? KINDS.file!;
  const item = element('li', 'attachment');
  item.dataset.type = attachment.type ?? 'file';
  const details = [attachment.mimetype ?? attachment.type, formatBytes(attachment.fileSize)];
  if (attachment.unavailable) details.push('no longer available');
  item.append(
    element('span', 'attachment-icon', kind.icon),
    element('span', 'attachment-name', attachment.filename ?? kind.name),
    element('span', 'attachment-details', details.filter(Boolean).join(' · ')),
  );
  item.querySelector('.attachment-icon')?.setAttribute('aria-hidden', 'true');
  return item;
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
function fillBody(
  item: HTMLLIElement,
  message: Pick<MessageItem, 'text' | 'attachments' | 'reactions' | 'editedAt' | 'deletedAt'>,
): void {
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
    list.append(...attachments.map(attachmentElement));
    text?.after(list);
  }
  const reactions = reactionsElement(message.reactions);
  if (reactions) (item.querySelector('.attachments') ?? text)?.after(reactions);
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
  fillBody(item, message);
  if (message.localId && message.status) showSendStatus(item, message.localId, message.status);
  shown.set(item, { ...message });
  return item;
}

/** What changed about a shown message; absent fields keep what it shows. */
export interface MessagePatch {
  text?: string | null;
  editedAt?: string | null;
  deletedAt?: string | null;
  reactions?: unknown[];
}

/** Applies a change (edit, reaction, deletion) to a shown message in place. */
export function patchMessage(item: HTMLLIElement, patch: MessagePatch): void {
  const current = shown.get(item);
  if (!current) return;
  const next = { ...current, ...patch };
  shown.set(item, next);
  fillBody(item, next);
}

let onRetry: (localId: string) => void = () => {};

/** What the retry button of a failed send does. */
export function setRetryHandler(handler: (localId: string) => void): void {
  onRetry = handler;
}

/** The status line of a sent message: pending, sent, unknown, or failed with a retry button. */
export function showSendStatus(item: HTMLLIElement, localId: string, status: string): void {
  item.dataset.status = status;
  item.querySelector('.send-status')?.remove();
  const line = element('span', 'send-status', status === 'unknown' ? 'checking…' : status);
  if (status === 'failed') {
    const retry = element('button', 'retry', 'Retry');
    retry.type = 'button';
    retry.addEventListener('click', () => onRetry(localId));
    line.append(' ', retry);
  }
  item.append(line);
}
