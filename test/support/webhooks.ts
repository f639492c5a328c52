import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { UNIPILE_WEBHOOK_PATH } from '../../server/providers/unipile/index.js';
import type { FakeUnipile } from '../../tools/fake-unipile/server.js';
import { TEST_SECRETS } from './app.js';

export interface PostWebhookOptions {
  /** Default: the test INBOUND_SECRET. `null` sends no Unipile-Auth header. */
  secret?: string | null;
  /** Default `application/json`. `null` sends none. */
  contentType?: string | null;
}

/**
 * Registers a listening gateway's webhook route (`gatewayUrl`, no trailing slash) at the fake
 * provider with the test INBOUND_SECRET, as Hookline registers itself: the fake's webhooks, the
 * echoes of sends included, then reach the gateway.
 */
export function registerAtFake(fake: FakeUnipile, gatewayUrl: string): void {
  fake.addWebhook({
    request_url: `${gatewayUrl}${UNIPILE_WEBHOOK_PATH}`,
    headers: [{ key: 'Unipile-Auth', value: TEST_SECRETS.inboundSecret }],
  });
}

/** POSTs a webhook body (an object is JSON-encoded, a string is sent as is) the way Unipile does. */
export function postWebhook(
  app: FastifyInstance,
  body: unknown,
  options: PostWebhookOptions = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  const secret = options.secret === undefined ? TEST_SECRETS.inboundSecret : options.secret;
  if (secret !== null) headers['unipile-auth'] = secret;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  return app.inject({
    method: 'POST',
    url: UNIPILE_WEBHOOK_PATH,
    headers,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
