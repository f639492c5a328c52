/** The read-status feature's entry: marking chats read at the provider (docs/sending.md, "Read state"). */
export { readStatusPlugin } from './plugin.js';
export { queueReadMarks } from './read-marks.js';
