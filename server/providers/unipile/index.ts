/**
 * The Unipile provider's public entry: what features and app.ts may use. Everything else in this
 * folder (payload schemas, normalisers, HTTP clients) is reached only through these exports.
 */

export { pagingError, responsesTooLargeCounter } from './bounded-read.js';
export {
  type AttachmentDownload,
  type ChatActionOutcome,
  UnipileChatActions,
} from './chat-actions.js';
export { isTransientProviderError } from './client.js';
export { checkUnipileKey, type UnipileKeyCheck } from './key-check.js';
export { registrationPlugin } from './plugin.js';
export {
  providerAuthFailure,
  type RestAccount,
  type RestAttendee,
  type RestChat,
  type RestMessage,
  UnipileRestClient,
} from './rest-messages.js';
export {
  type ChatDetails,
  chatDetails,
  isUsableRestMessage,
  type RestState,
  restMessageEvent,
  restState,
} from './rest-normalize.js';
export { type SendOutcome, UnipileMessaging } from './send-message.js';
export { UNIPILE_PROVIDER, UNIPILE_WEBHOOK_PATH, unipileWebhook } from './webhook.js';
