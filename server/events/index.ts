/**
 * The events module's public entry: what a subscriber or a socket receives is defined here and
 * nowhere else — event types (names.ts), `data` shapes and their builders (one module per shape:
 * message-new.ts, own-message-new.ts, message-sent.ts, send-status.ts, send-accepted.ts, and
 * data.ts for the rest), the `Envelopes` a transaction collects (envelopes.ts), and the catalog
 * served to subscribers (catalog.ts). Ingest, chats, sync, send and outbound import from this
 * file only.
 */
export * from './catalog.js';
export * from './data.js';
export * from './envelopes.js';
export * from './message-new.js';
export * from './message-sent.js';
export * from './names.js';
export * from './own-message-new.js';
export * from './send-accepted.js';
export * from './send-status.js';
