import type { SentEcho } from '../send/index.js';
import type { IngestItem } from './items.js';

/** The batch's messages sent by the account, with text (a send always has text). */
export function sentEchoes(items: readonly IngestItem[]): SentEcho[] {
  const echoes: SentEcho[] = [];
  for (const item of items) {
    if (item.outcome !== 'accepted' || item.event.kind !== 'message') continue;
    const event = item.event;
    if (event.event !== 'message_received' || !event.isSender || !event.text) continue;
    echoes.push({
      accountId: event.accountId,
      chatId: event.chatId,
      messageId: event.messageId,
      text: event.text,
    });
  }
  return echoes;
}
