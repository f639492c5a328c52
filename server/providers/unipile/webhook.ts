import { storableText } from '../../shared/storable.js';
import type { ProviderWebhook } from '../webhook.js';
import { normalizeUnipileWebhook } from './normalize.js';
import { parseUnipileWebhook } from './webhook-schema.js';

/** The provider name stored with Unipile's bodies and accounts (`provider` columns). */
export const UNIPILE_PROVIDER = 'unipile';

/** Unipile's webhook target (docs/ingest.md); registration points every source at it. */
export const UNIPILE_WEBHOOK_PATH = '/api/webhooks/unipile/messages';

/** The warning for webhooks from a source Hookline does not handle: what to change on Unipile. */
function ignoredAdvice(source: string): string {
  const what =
    source === 'none'
      ? 'webhook bodies without an `event` (such as a hosted-auth `notify_url` callback)'
      : `webhooks with event "${source}"`;
  return (
    `Unipile sends ${what}, which Hookline does not handle: they are answered 200 and kept as ` +
    `ignored. Remove that source or event from the Unipile webhook pointing at Hookline, or point ` +
    `it (or the notify_url) at another receiver. (Warned at most once an hour per source.)`
  );
}

/** Unipile's webhooks: `POST` UNIPILE_WEBHOOK_PATH with the inbound secret in `Unipile-Auth`. */
export const unipileWebhook: ProviderWebhook = {
  provider: UNIPILE_PROVIDER,
  path: UNIPILE_WEBHOOK_PATH,
  authHeader: 'Unipile-Auth',
  parse(value) {
    const parsed = parseUnipileWebhook(value);
    if (!parsed.ok) return { kind: 'invalid', issues: parsed.issues };
    if (parsed.webhook.kind === 'ignored') return { kind: 'ignored', source: parsed.webhook.payload.source };
    return { kind: 'event', event: normalizeUnipileWebhook(parsed.webhook) };
  },
  ignoredAdvice,
  labels(value) {
    if (value === null || typeof value !== 'object') return { eventName: null, accountId: null };
    const record = value as Record<string, unknown>;
    const status = record.AccountStatus as Record<string, unknown> | undefined;
    const text = (field: unknown) => (typeof field === 'string' ? storableText(field.slice(0, 200)) : null);
    return {
      eventName: status ? 'account_status' : text(record.event),
      accountId: text(status ? status.account_id : record.account_id),
    };
  },
};
