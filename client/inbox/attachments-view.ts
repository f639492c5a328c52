import type { AttachmentItem } from './api.js';
import { formatBytes } from './format.js';

/**
 * A message's files in its bubble: an image shows as a thumbnail (fetched with the page's token,
 * shown from a blob: URL), anything else as a download button. Names come from the provider:
 * always set as text.
 */

/** Fetches one file of a message (the page's API, with its token). */
export type AttachmentLoader = (
  message: { accountId: string; messageId: string },
  attachmentId: string,
) => Promise<Blob>;

let load: AttachmentLoader | undefined;

/** How files are fetched; until set, files are listed without preview or download. */
export function setAttachmentLoader(loader: AttachmentLoader): void {
  load = loader;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
const stringOrNull = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/** An attachment from the model, read defensively (the model keeps what the provider sent). */
export function toAttachment(value: unknown): AttachmentItem & { id: string | null } {
  const raw = record(value);
  return {
    id: stringOrNull(raw.id),
    type: stringOrNull(raw.type),
    mimetype: stringOrNull(raw.mimetype),
    filename: stringOrNull(raw.filename),
    fileSize: typeof raw.fileSize === 'number' ? raw.fileSize : null,
    unavailable: raw.unavailable === true,
  };
}

const KINDS: Record<string, { icon: string; name: string }> = {
  img: { icon: '🖼️', name: 'Photo' },
  video: { icon: '🎬', name: 'Video' },
  audio: { icon: '🎙️', name: 'Voice message' },
  file: { icon: '📄', name: 'File' },
};

const span = (className: string, text: string) => {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  return node;
};

/** Images shown inline: the gateway serves these with their own type (others as downloads). */
const PREVIEWABLE = /^image\/(png|jpeg|gif|webp|avif|bmp)$/;

function thumbnail(message: { accountId: string; messageId: string }, id: string, name: string): HTMLElement {
  const image = document.createElement('img');
  image.className = 'attachment-thumb';
  image.alt = name;
  image.loading = 'lazy';
  image.decoding = 'async';
  load?.(message, id)
    .then((blob) => {
      image.src = URL.createObjectURL(blob);
    })
    .catch(() => image.replaceWith(span('attachment-details', 'preview unavailable')));
  return image;
}

async function download(
  message: { accountId: string; messageId: string },
  id: string,
  name: string,
): Promise<void> {
  if (!load) return;
  const url = URL.createObjectURL(await load(message, id));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** One file of `message` as its bubble lists it: a thumbnail or a download button when it can be fetched. */
export function attachmentElement(
  message: { accountId: string; messageId: string | null },
  attachment: AttachmentItem & { id: string | null },
): HTMLLIElement {
  const kind = KINDS[attachment.type ?? ''] ?? KINDS.file!;
  const item = document.createElement('li');
  item.className = 'attachment';
  item.dataset.type = attachment.type ?? 'file';
  const name = attachment.filename ?? kind.name;
  const details = [attachment.mimetype ?? attachment.type, formatBytes(attachment.fileSize)];
  if (attachment.unavailable) details.push('no longer available');
  const icon = span('attachment-icon', kind.icon);
  icon.setAttribute('aria-hidden', 'true');
  item.append(
    icon,
    span('attachment-name', name),
    span('attachment-details', details.filter(Boolean).join(' · ')),
  );
  const source =
    message.messageId && attachment.id && !attachment.unavailable && load
      ? { ...message, messageId: message.messageId }
      : null;
  if (!source || !attachment.id) return item;
  const id = attachment.id;
  if (PREVIEWABLE.test(attachment.mimetype ?? '')) item.append(thumbnail(source, id, name));
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'attachment-download';
  button.textContent = 'Download';
  button.setAttribute('aria-label', `Download ${name}`);
  button.addEventListener('click', () => {
    button.disabled = true;
    download(source, id, name)
      .catch(() => {
        button.textContent = 'Download failed: retry';
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  item.append(button);
  return item;
}
