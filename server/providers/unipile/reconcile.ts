import { createHmac } from 'node:crypto';
import { HooklineError } from '../../errors.js';
import { UNIPILE_WEBHOOK_PATH } from '../../ingest/plugin.js';
import type { ProviderProblem, UnipileClient, Webhook, WebhookHeader, WebhookSource } from './client.js';

/** The webhooks Hookline registers: one per source, all pointing at the ingest route. */
export const REGISTERED_SOURCES: readonly WebhookSource[] = ['messaging', 'account_status'];

/** One webhook as Hookline wants it to exist on the provider. */
export interface DesiredWebhook {
  source: WebhookSource;
  /** `hookline:<instance>:<fingerprint>:<source>` (see {@link webhookName}). */
  name: string;
  /** The gateway's `UNIPILE_WEBHOOK_INSTANCE`: which of the `hookline:` webhooks are ours. */
  instance: string;
  requestUrl: string;
  headers: WebhookHeader[];
}

/** Why one of our webhooks was replaced. */
export type ReplaceReason = 'legacy_name' | 'rotated_secret' | 'disabled' | 'url_changed' | 'duplicate';

/** What registration did for one source. */
export interface ReconcileResult {
  source: WebhookSource;
  /** The id of the webhook that now delivers to us. */
  webhookId: string;
  /** `reused`: ours already matched; `created`: none was ours; `replaced`: ours was stale. */
  action: 'reused' | 'created' | 'replaced';
  /** Ids of our stale or duplicate webhooks that were deleted. */
  deleted: string[];
  /** Why each deleted webhook went, by id. */
  reasons: Record<string, ReplaceReason>;
}

/**
 * A short keyed hash of the inbound secret (HMAC-SHA256 keyed with the secret, 12 hex digits):
 * it tells whether a webhook carries the current secret without the provider ever showing its
 * header values, and reveals nothing of the secret.
 */
export function webhookFingerprint(inboundSecret: string): string {
  return createHmac('sha256', inboundSecret).update('hookline webhook name').digest('hex').slice(0, 12);
}

/**
 * The name that marks a webhook as this instance's, sending the secret of `fingerprint`:
 * `hookline:<instance>:<fingerprint>:<source>`. Only webhooks named `hookline:<instance>:` (with
 * or without a fingerprint) and `:<source>` are ever reused or deleted, so webhooks created by
 * hand, by other tools or by other Hookline instances (another instance name) are never touched.
 */
export function webhookName(instance: string, source: WebhookSource, fingerprint: string): string {
  return `hookline:${instance}:${fingerprint}:${source}`;
}

/** The webhooks to register for a public base URL and inbound secret. */
export function desiredWebhooks(options: {
  baseUrl: string;
  inboundSecret: string;
  instance: string;
}): DesiredWebhook[] {
  const requestUrl = `${options.baseUrl.replace(/\/+$/, '')}${UNIPILE_WEBHOOK_PATH}`;
  const fingerprint = webhookFingerprint(options.inboundSecret);
  return REGISTERED_SOURCES.map((source) => ({
    source,
    name: webhookName(options.instance, source, fingerprint),
    instance: options.instance,
    requestUrl,
    // Without an explicit Content-Type, webhooks created through the API are not sent as JSON.
    headers: [
      { key: 'Content-Type', value: 'application/json' },
      { key: 'Unipile-Auth', value: options.inboundSecret },
    ],
  }));
}

/**
 * Whether `webhook` is ours for `desired`'s source: under the current name, the name before
 * fingerprints (`hookline:<instance>:<source>`), or with another fingerprint (a rotated secret).
 */
function ownName(
  webhook: Webhook,
  desired: DesiredWebhook,
): 'current' | 'legacy_name' | 'rotated_secret' | undefined {
  const name = webhook.name ?? '';
  if (name === desired.name) return 'current';
  if (name === `hookline:${desired.instance}:${desired.source}`) return 'legacy_name';
  const prefix = `hookline:${desired.instance}:`;
  const fingerprint =
    name.startsWith(prefix) && name.endsWith(`:${desired.source}`)
      ? name.slice(prefix.length, name.length - desired.source.length - 1)
      : undefined;
  return fingerprint !== undefined && /^[0-9a-f]{12}$/.test(fingerprint) ? 'rotated_secret' : undefined;
}

/** Why a webhook under the current name cannot be kept, or undefined when it can. */
function staleness(webhook: Webhook, desired: DesiredWebhook): ReplaceReason | undefined {
  if (webhook.enabled === false) return 'disabled';
  if (webhook.request_url !== desired.requestUrl) return 'url_changed';
  if (webhook.source !== undefined && webhook.source !== desired.source) return 'url_changed';
  return undefined;
}

/**
 * Makes the provider hold exactly one up-to-date webhook of ours per source. Ours is recognised
 * by name alone (the secret's fingerprint is in it), never by the header values the provider may
 * not return. One under the current name, enabled, with our URL is reused. Anything else of ours
 * (the name before fingerprints, another fingerprint, a disabled one, an old URL) is replaced by
 * creating the new webhook FIRST and deleting the old one after, so no delivery falls in a gap
 * between the two; for a moment both deliver, which ingest dedupes. Extra copies are deleted.
 */
export async function reconcileWebhooks(
  client: UnipileClient,
  wanted: DesiredWebhook[],
  signal?: AbortSignal,
): Promise<ReconcileResult[]> {
  const existing = await client.listWebhooks(signal);
  const results: ReconcileResult[] = [];
  for (const desired of wanted) {
    const ours = existing.flatMap((webhook) => {
      const owned = ownName(webhook, desired);
      return owned ? [{ webhook, reason: owned === 'current' ? staleness(webhook, desired) : owned }] : [];
    });
    const keep = ours.find((entry) => entry.reason === undefined)?.webhook;
    let webhookId: string;
    let action: ReconcileResult['action'];
    if (keep) {
      webhookId = keep.id;
      action = 'reused';
    } else {
      webhookId = await client.createWebhook(
        {
          request_url: desired.requestUrl,
          source: desired.source,
          name: desired.name,
          format: 'json',
          headers: desired.headers,
          enabled: true,
        },
        signal,
      );
      action = ours.length > 0 ? 'replaced' : 'created';
    }
    const deleted: string[] = [];
    const reasons: Record<string, ReplaceReason> = {};
    for (const { webhook, reason } of ours) {
      if (webhook.id === webhookId) continue;
      await deleteIfPresent(client, webhook.id, signal);
      deleted.push(webhook.id);
      reasons[webhook.id] = reason ?? 'duplicate';
    }
    results.push({ source: desired.source, webhookId, action, deleted, reasons });
  }
  return results;
}

/** Deletes a webhook; one already gone (deleted by hand meanwhile) is what we wanted anyway. */
export async function deleteIfPresent(
  client: UnipileClient,
  id: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await client.deleteWebhook(id, signal);
  } catch (error) {
    const status = error instanceof HooklineError ? (error.details as ProviderProblem).status : undefined;
    if (status !== 404) throw error;
  }
}
