/**
 * The ingest feature's public entry (docs/ingest.md): the webhook route for app.ts, and the
 * write path pieces catch-up sync reuses so that a synced message is stored exactly as a webhook's.
 */
export { accountsOf, applyFollowUp, receivedMessage } from './apply-messages.js';
export { messageDedupeKey } from './dedupe-key.js';
export { ingestPlugin } from './plugin.js';
