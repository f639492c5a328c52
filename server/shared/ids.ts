import { randomUUID } from 'node:crypto';

/**
 * A new Standard Webhooks `webhook-id`: `msg_` and 32 hex digits of a random UUID. randomUUID
 * draws from Node's buffered entropy, so an id per ingested message costs well under a
 * microsecond (randomBytes asks OpenSSL on every call, several times slower).
 */
export function newWebhookId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}
