import { HooklineError } from '../../errors.js';
import type { ProviderProblem, UnipileClient, Webhook, WebhookHeader, WebhookSource } from './client.js';
import { UNIPILE_WEBHOOK_PATH } from './webhook.js';

/** The webhooks Hookline registers: one per source, all pointing at the ingest route. */
export const REGISTERED_SOURCES: readonly WebhookSource[] = ['messaging', 'account_status'];

/** One webhook as Hookline wants it to exist on the provider. */
export interface DesiredWebhook {
  source: WebhookSource;
  name: string;
  requestUrl: string;
  headers: WebhookHeader[];
}

/** What registration did for one source. */
export interface ReconcileResult {
  source: WebhookSource;
  /** The id of the webhook that now delivers to us. */
  webhookId: string;
  /** `reused`: ours already matched; `created`: none was ours; `replaced`: ours was stale. */
  action: 'reused' | 'created' | 'replaced';
  /** Ids of our stale or duplicate webhooks that were deleted. */
  deleted: string[];
}

/**
 * The name that marks a webhook as this instance's: `hookline:<instance>:<source>`. Only webhooks
 * with exactly this name are ever reused or deleted, so webhooks created by hand, by other
 * tools or by other Hookline instances (another instance name) are never touched.
 */
export function webhookName(instance: string, source: WebhookSource): string {
  return `hookline:${instance}:${source}`;
}

/** The webhooks to register for a public base URL and inbound secret. */
export function desiredWebhooks(options: {
  baseUrl: string;
  inboundSecret: string;
  instance: string;
}): DesiredWebhook[] {
  const requestUrl = `${options.baseUrl.replace(/\/+$/, '')}${UNIPILE_WEBHOOK_PATH}`;
  return REGISTERED_SOURCES.map((source) => ({
    source,
    name: webhookName(options.instance, source),
    requestUrl,
    // Without an explicit Content-Type, webhooks created through the API are not sent as JSON.
    headers: [
      { key: 'Content-Type', value: 'application/json' },
      { key: 'Unipile-Auth', value: options.inboundSecret },
    ],
  }));
}

function sameHeaders(actual: WebhookHeader[] | undefined, wanted: WebhookHeader[]): boolean {
  const normalise = (headers: WebhookHeader[]) =>
    headers.map((header) => `${header.key.toLowerCase()}\n${header.value}`).sort();
  const a = normalise(Array.isArray(actual) ? actual : []);
  const b = normalise(wanted);
  return a.length === b.length && a.every((entry, index) => entry === b[index]);
}

function matches(webhook: Webhook, wanted: DesiredWebhook): boolean {
  return (
    webhook.request_url === wanted.requestUrl &&
    sameHeaders(webhook.headers, wanted.headers) &&
    (webhook.source === undefined || webhook.source === wanted.source) &&
    webhook.enabled !== false
  );
}

/**
 * Makes the provider hold exactly one up-to-date webhook of ours per source. A matching one is
 * reused. A stale one (old tunnel URL, old secret) is replaced by creating the new webhook FIRST
 * and deleting the old one after, so no delivery falls in a gap between the two; for a moment
 * both deliver, which ingest dedupes. Extra copies of ours are deleted.
 */
export async function reconcileWebhooks(
  client: UnipileClient,
  wanted: DesiredWebhook[],
  signal?: AbortSignal,
): Promise<ReconcileResult[]> {
  const existing = await client.listWebhooks(signal);
  const results: ReconcileResult[] = [];
  for (const desired of wanted) {
    const ours = existing.filter((webhook) => webhook.name === desired.name);
    const keep = ours.find((webhook) => matches(webhook, desired));
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
    for (const webhook of ours) {
      if (webhook.id === webhookId) continue;
      await deleteIfPresent(client, webhook.id, signal);
      deleted.push(webhook.id);
    }
    results.push({ source: desired.source, webhookId, action, deleted });
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
