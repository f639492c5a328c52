/**
 * The realtime feature's public entry (docs/realtime.md): the WebSocket plugin for app.ts, and
 * connection tokens, which the read and send routes also accept as credentials.
 */
export { realtimePlugin } from './plugin.js';
export { type RealtimeScope, verifyRealtimeToken } from './tokens.js';
