import type { z } from 'zod';
import type { IngestEvent } from './events.js';

/** What a provider's parser made of one webhook body (already valid JSON). */
export type ParsedWebhook =
  | { kind: 'event'; event: IngestEvent }
  /** A source or event Hookline does not handle: answered 200, stored as ignored. */
  | { kind: 'ignored'; source: string }
  | { kind: 'invalid'; issues: z.core.$ZodIssue[] };

/**
 * How one provider's webhooks reach Hookline: everything ingest needs to know about them, so a
 * second provider is a new folder under providers/ exporting one of these, not edits to ingest.
 */
export interface ProviderWebhook {
  /** The provider's name, stored with every inbound body and account (`provider` columns). */
  provider: string;
  /** The route the provider posts to. */
  path: string;
  /** The header carrying the shared inbound secret, as documented (matched case-insensitively). */
  authHeader: string;
  /** Validates and normalises a parsed JSON body. */
  parse(value: unknown): ParsedWebhook;
  /** What to change on the provider so it stops sending a source Hookline ignores (a warning). */
  ignoredAdvice(source: string): string;
  /** Best-effort labels of a body that failed to parse, so operators can find it by event and account. */
  labels(value: unknown): { eventName: string | null; accountId: string | null };
}
