import type { MessageEvent } from '../providers/events.js';
import {
  isUsableRestMessage,
  type RestMessage,
  type RestState,
  restMessageEvent,
  restState,
} from '../providers/unipile/index.js';
import { storableJson, storableText, textTooLarge } from '../shared/storable.js';
import type { ChatDetailsCache } from './chat-details.js';

/** How much of an item that cannot be stored is kept for inspection (its JSON, cut). */
const KEPT_BYTES = 64 * 1024;
/** An item's JSON longer than this is no message Hookline stores (a webhook body is at most 1 MiB). */
const MAX_ITEM_CHARS = 4 * 1024 * 1024;

/** One REST message of a page, normalised, with the state the provider reports for it. */
export interface SyncedMessage {
  event: MessageEvent;
  state: RestState;
  /** The REST item as listed, kept as the inbound body. */
  rawBody: string;
}

/** A listed item that could not be stored even once cleaned: kept as a rejected body, skipped. */
export interface SkippedItem {
  /** The cleaned item's JSON, at most 64 KiB of it. */
  rawBody: string;
  /** Why, in words (no message text). */
  reason: string;
}

/** A page's items as the write path takes them, and those it must skip. */
export interface NormalizedPage {
  synced: SyncedMessage[];
  skipped: SkippedItem[];
}

/**
 * Turns one page of REST messages into what the write path stores, through the same cleaning as
 * webhooks (U+0000 and lone surrogates replaced in every string, storableJson): one poisoned item
 * must not stop an account's sync. An item still unstorable after it (a text over 1 MiB, an
 * attachment list the schema refuses) is skipped and kept for inspection; the rest of the page is
 * stored and the run moves on. Items without an id, a chat or a readable time are left out, as before.
 */
export async function normalizePage(
  accountId: string,
  items: RestMessage[],
  chats: ChatDetailsCache,
  signal: AbortSignal,
): Promise<NormalizedPage> {
  const cleaned = items.map((item) => storableJson(item) as RestMessage);
  const usable = cleaned.filter((item) => isUsableRestMessage(item, accountId));
  const details = await chats.resolve(
    accountId,
    usable.map((item) => item.chat_id),
    signal,
  );
  const synced: SyncedMessage[] = [];
  const skipped: SkippedItem[] = [];
  for (const item of usable) {
    const rawBody = JSON.stringify(item);
    if (textTooLarge(item.text)) {
      skipped.push(skip(rawBody, 'text longer than 1 MiB, the most a message may hold'));
      continue;
    }
    if (rawBody.length > MAX_ITEM_CHARS) {
      skipped.push(skip(rawBody, 'item longer than 4 MiB'));
      continue;
    }
    try {
      const event = restMessageEvent(item, accountId, details.get(item.chat_id));
      synced.push({ event, state: restState(item), rawBody });
    } catch (error) {
      const what = error instanceof Error ? error.name : 'error';
      skipped.push(skip(rawBody, `could not be read as a message (${what})`));
    }
  }
  return { synced, skipped };
}

function skip(rawBody: string, reason: string): SkippedItem {
  if (rawBody.length <= KEPT_BYTES / 3) return { rawBody, reason };
  // Cut by bytes, then drop a character the cut may have halved.
  const cut = storableText(
    Buffer.from(rawBody)
      .subarray(0, KEPT_BYTES)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
  );
  return { rawBody: cut, reason: `${reason}; only its first 64 KiB are kept` };
}
