import { Agent, type Dispatcher } from 'undici';
import { type AttemptOutcome, deliverWithRetries } from '../../../tools/fake-unipile/delivery.js';
import {
  type FakeAccount,
  fakeAccount,
  messageReceived,
  type UnipileMessagingPayload,
} from '../../../tools/fake-unipile/payloads.js';
import { CHAOS_SECRETS, WEBHOOK_PATH } from './gateway-process.js';

/** `count` distinct `message_received` bodies spread over a few accounts and chats. */
export function burstPayloads(
  count: number,
  accounts: FakeAccount[] = [fakeAccount(), fakeAccount(), fakeAccount()],
): UnipileMessagingPayload[] {
  return Array.from({ length: count }, (_, index) => {
    const account = accounts[index % accounts.length]!;
    return messageReceived({
      account,
      chatId: `chat_${account.id}_${index % 20}`,
      messageId: `msg_chaos_${index}`,
      text: `chaos ${index}`,
    });
  });
}

export interface ProviderDelivery {
  messageId: string;
  acknowledged: boolean;
  attempts: AttemptOutcome[];
  /** When the delivery finished (its 200, or its last failure): compared with the fault's time. */
  finishedAt: number;
}

export interface BurstOptions {
  /** The gateway's base URL; the dispatcher may route each attempt elsewhere (a balancer). */
  baseUrl: string;
  /** Webhooks in flight at once, like Unipile's parallel delivery. */
  concurrency: number;
  /** First retry delay, doubling: short, so the five retries span a restart within seconds. */
  retryDelayMs: number;
  /** One attempt's time limit (Unipile: 30 s); short so a cut connection is retried promptly. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** Called after each delivery finishes, e.g. to trigger the fault at a given progress. */
  onDelivered?: (delivery: ProviderDelivery, finished: number) => void;
}

/**
 * The fake provider's burst: every payload delivered the way Unipile does (`deliverWithRetries`:
 * up to five retries on anything but 200), `concurrency` at a time. Resolves when every
 * delivery was acknowledged or spent its retries.
 */
export async function sendBurst(
  payloads: UnipileMessagingPayload[],
  options: BurstOptions,
): Promise<ProviderDelivery[]> {
  const headers = { 'content-type': 'application/json', 'unipile-auth': CHAOS_SECRETS.INBOUND_SECRET };
  const results: ProviderDelivery[] = [];
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) {
      const payload = payloads[next++]!;
      const result = await deliverWithRetries(
        `${options.baseUrl}${WEBHOOK_PATH}`,
        headers,
        JSON.stringify(payload),
        {
          retryDelayMs: options.retryDelayMs,
          timeoutMs: options.timeoutMs ?? 10_000,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        },
      );
      const delivery = {
        messageId: payload.message_id,
        acknowledged: result.acknowledged,
        attempts: result.attempts,
        finishedAt: Date.now(),
      };
      results.push(delivery);
      options.onDelivered?.(delivery, results.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return results;
}

/** Attempts that did not get 200: the retries the provider made. */
export function retriesOf(deliveries: ProviderDelivery[]): number {
  return deliveries.reduce((sum, delivery) => sum + delivery.attempts.length - 1, 0);
}

/**
 * A provider-side dispatcher whose attempts are spread round-robin over the backends `healthy()`
 * returns, like a load balancer with health checks in front of several gateways.
 */
export function roundRobinBalancer(healthy: () => string[]): {
  dispatcher: Dispatcher;
  close(): Promise<void>;
} {
  const agent = new Agent({ connections: 64 });
  let turn = 0;
  const dispatcher = agent.compose((dispatch) => (options, handler) => {
    const backends = healthy();
    return dispatch({ ...options, origin: backends[turn++ % backends.length] }, handler);
  });
  return { dispatcher, close: () => agent.close() };
}
