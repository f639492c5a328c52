/** The send feature's public entry (docs/sending.md): what other features and app.ts may use. */
export { type SentEcho, settleEchoes } from './echo.js';
export { sendPlugin } from './plugin.js';
