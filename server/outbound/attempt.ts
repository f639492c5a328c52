import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { AttemptRecorder } from './attempt-recorder.js';
import { headerHost, openHeaders } from './header-box.js';
import type { OutboundMetrics } from './metrics.js';
import type { ClaimedDelivery, DeliveryAttemptRow } from './queries/deliveries.js';
import type { DeliveryNext } from './queries/delivery-attempts.js';
import { parseRetryAfter, retryDelayMs } from './retry-schedule.js';
import { decryptSecret } from './secret-box.js';
import type { SendResult, WebhookSender } from './sender.js';
import { DEFAULT_HMAC_SIGNATURE_HEADER, hmacHexSignatureHeader, signatureHeader } from './signing.js';

/** Everything one attempt needs besides the delivery itself. */
export interface AttemptContext {
  db: Db;
  sender: WebhookSender;
  encryptionKey: Buffer;
  /** Records finished attempts, batched with the other attempts finishing at the same time. */
  recorder: AttemptRecorder;
  /** Delays between attempts in ms (the last one repeats), for endpoints without a schedule of their own. */
  retrySchedule: readonly number[];
  metrics: OutboundMetrics;
  log: FastifyBaseLogger;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

const USER_AGENT = 'Hookline-Webhooks/1';

/** The secrets that sign right now: the current one and, during a rotation overlap, the previous one. */
function signingSecrets(delivery: ClaimedDelivery, key: Buffer, now: number): string[] {
  const { target } = delivery;
  const secrets = [decryptSecret(target.secretEncrypted, key)];
  if (
    target.previousSecretEncrypted &&
    target.previousSecretExpiresAt &&
    target.previousSecretExpiresAt.getTime() > now
  ) {
    secrets.push(decryptSecret(target.previousSecretEncrypted, key));
  }
  return secrets;
}

/**
 * The request headers: the endpoint's custom ones (decrypted) first, so ours always win. Under
 * `hmac-sha256-hex` the signature goes in the endpoint's header instead of `webhook-signature`.
 */
export function deliveryHeaders(
  delivery: ClaimedDelivery,
  key: Buffer,
  body: string,
  now: number,
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  const { target } = delivery;
  // Only values given for this URL's host: a header never follows the endpoint elsewhere.
  const custom = openHeaders(target.headers, key, headerHost(target.url));
  const secrets = signingSecrets(delivery, key, now);
  const common = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': delivery.webhookId,
    'webhook-timestamp': String(timestamp),
  };
  if (target.signatureScheme === 'hmac-sha256-hex') {
    const name = target.signatureHeader ?? DEFAULT_HMAC_SIGNATURE_HEADER;
    return {
      ...withoutHeader(custom, name),
      ...common,
      [name]: hmacHexSignatureHeader(secrets, body),
    };
  }
  return {
    ...custom,
    ...common,
    'webhook-signature': signatureHeader(secrets, delivery.webhookId, timestamp, body),
  };
}

/** `headers` without `name` in any letter case: two spellings would both be sent. */
function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  const lower = name.toLowerCase();
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== lower));
}

/** The endpoint's retry schedule in ms, or the server's when it has none. */
function scheduleFor(context: AttemptContext, delivery: ClaimedDelivery): readonly number[] {
  const seconds = delivery.target.retrySchedule;
  return seconds && seconds.length > 0 ? seconds.map((delay) => delay * 1000) : context.retrySchedule;
}

function nextStep(
  context: AttemptContext,
  delivery: ClaimedDelivery,
  result: SendResult,
  at: number,
): DeliveryNext {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) return { status: 'succeeded', at: new Date(at) };
  if (status === 410 || delivery.attempts >= delivery.target.maxAttempts) return { status: 'dead' };
  const asked = status === 429 || status === 503 ? parseRetryAfter(result.retryAfter, at) : undefined;
  const delay =
    asked ??
    retryDelayMs(scheduleFor(context, delivery), delivery.attempts, (context.random ?? Math.random)());
  return { status: 'failed', nextAttemptAt: new Date(at + delay) };
}

/** Signs and sends; a secret that cannot be decrypted is a failed attempt like any other. */
async function signAndSend(
  context: AttemptContext,
  delivery: ClaimedDelivery,
  body: string,
  startedAt: number,
  signal: AbortSignal,
): Promise<SendResult> {
  let headers: Record<string, string>;
  try {
    headers = deliveryHeaders(delivery, context.encryptionKey, body, startedAt);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { statusCode: null, error: message, bodyExcerpt: null, durationMs: 0 };
  }
  return context.sender.send(delivery.target.url, headers, body, signal);
}

/**
 * Sends one claimed delivery, then has the recorder log the attempt and settle the delivery and
 * its endpoint; resolves once that is committed (in a batch with the attempts finishing at the
 * same time). Throws `SendAborted` (nothing recorded) when `signal` aborts: the lease then
 * expires and another worker re-sends it with the same webhook-id, as after a crash.
 *
 * @returns the logged attempt, or undefined when the delivery was deleted while it was sent.
 */
export async function attemptDelivery(
  context: AttemptContext,
  delivery: ClaimedDelivery,
  signal: AbortSignal,
): Promise<DeliveryAttemptRow | undefined> {
  const now = context.now ?? Date.now;
  const startedAt = now();
  const body = JSON.stringify(delivery.payload);
  const result = await signAndSend(context, delivery, body, startedAt, signal);
  const next = nextStep(context, delivery, result, now());
  // Logged even when another worker re-claimed the delivery after our lease (it was sent); a
  // delivery deleted meanwhile, with its endpoint, leaves nothing to log.
  const { attempt, disabledReason } = await context.recorder.record({
    attempt: {
      deliveryId: delivery.id,
      attempt: delivery.attempts,
      next,
      statusCode: result.statusCode,
      error: result.error,
      responseBodyExcerpt: result.bodyExcerpt,
      attemptedAt: new Date(startedAt),
      durationMs: result.durationMs,
    },
    endpointId: delivery.endpointId,
    webhookId: delivery.webhookId,
    eventType: delivery.eventType,
    endpointFailing: delivery.target.failing,
    gone: result.statusCode === 410,
  });
  if (!attempt) return undefined;
  context.metrics.recordAttempt(
    next.status === 'succeeded' ? 'succeeded' : next.status === 'dead' ? 'dead' : 'retry',
    result.durationMs,
  );
  if (disabledReason) {
    context.metrics.endpointsDisabled.inc();
    // Besides the `endpoint.disabled` event (enqueued with the attempt): a structured log line
    // operators alert on; the reason stays on the endpoint.
    context.log.warn(
      { event: 'endpoint.disabled', endpointId: delivery.endpointId, reason: disabledReason },
      'endpoint.disabled: outbound endpoint disabled',
    );
  }
  return attempt;
}
