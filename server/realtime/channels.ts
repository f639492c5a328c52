/** NOTIFY channel whose payload is the highest committed realtime `seq` (a wake-up hint). */
export const REALTIME_CHANNEL = 'hookline_realtime';

/**
 * Advisory lock that orders the tails of concurrent publishing transactions: `seq` is drawn only
 * under it, so `seq` order is commit order (server/outbound/outboxes.ts).
 */
export const REALTIME_APPEND_LOCK = 0x686c7274; // "hlrt"
