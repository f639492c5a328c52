/**
 * The realtime feature's public entry (docs/realtime.md): the WebSocket plugin for app.ts, and the
 * sessions plugin whose `app.realtimeSessions` verifies connection tokens for the credentials
 * plugin, so that the read and send routes accept them too.
 */

export { REALTIME_APPEND_LOCK, REALTIME_CHANNEL } from './channels.js';
export { realtimePlugin } from './plugin.js';
export { sessionsPlugin } from './sessions-plugin.js';
