import type { IngestEvent, MessageEvent } from '../providers/events.js';

/** A body after parsing and validation (a webhook's, or a REST message sync found), ready for its batch. */
export type IngestItem =
  | { outcome: 'accepted'; rawBody: string; event: IngestEvent; dedupeKey: string | null }
  | {
      outcome: 'rejected';
      rawBody: string;
      eventName: string | null;
      accountId: string | null;
      error: { code: string; issues?: unknown; reason?: string };
    }
  | {
      outcome: 'ignored';
      rawBody: string;
      eventName: string | null;
      accountId: string | null;
      /** The provider source Hookline does not handle (see parseUnipileWebhook). */
      source: string;
    };

/** How ingest took one item: stored, already stored, refused as invalid, or from an unhandled source. */
export type ItemResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

/** The item's message event and dedupe key, if the item is a message still counted as accepted. */
export function acceptedMessage(
  item: IngestItem,
  result: ItemResult | undefined,
): { event: MessageEvent; dedupeKey: string | null } | undefined {
  if (result !== 'accepted' || item.outcome !== 'accepted' || item.event.kind !== 'message') return undefined;
  return { event: item.event, dedupeKey: item.dedupeKey };
}
