/**
 * The ingest feature's public entry (docs/ingest.md): the webhook route for app.ts, and ingest's
 * one store with the follow-up writes, which catch-up sync uses so that a synced message is stored
 * exactly as a webhook's.
 */
export { messageDedupeKey } from './dedupe.js';
export { applyFollowUp } from './follow-ups.js';
export type { IngestItem } from './items.js';
export { ingestPlugin } from './plugin.js';
export { type StoredItems, store } from './queries/store.js';
