/**
 * The realtime feature's public entry (docs/realtime.md): the WebSocket plugin for app.ts, the
 * sessions plugin whose `app.realtimeSessions` verifies connection tokens, which the read and
 * send routes also accept as credentials.
 */

export { REALTIME_APPEND_LOCK, REALTIME_CHANNEL } from './channels.js';
export { realtimePlugin } from './plugin.js';
export { sessionsPlugin } from './sessions-plugin.js';
export type { RealtimeGrant, RealtimeScope } from './tokens.js';
