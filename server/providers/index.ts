import { unipileWebhook } from './unipile/index.js';
import type { ProviderWebhook } from './webhook.js';

/**
 * The registry of provider folders: the one file under providers/ outside a provider's own folder
 * that names one. Adding a provider adds its webhook here; code that must treat every provider
 * alike (log redaction of their auth headers, for instance) reads this list.
 */
export const PROVIDER_WEBHOOKS: readonly ProviderWebhook[] = [unipileWebhook];

export type { IngestEvent, MessageEvent, Sender } from './events.js';
export type { ParsedWebhook, ProviderWebhook } from './webhook.js';
