import { newWebhookId, OPERATIONAL_EVENT_TYPES, webhookBody } from '../events/index.js';
import type { FinishedAttempt, RecordedAttempt } from './queries/delivery-attempts.js';
import type { OperationalEventInput } from './queries/outbound-controls.js';

/**
 * What an attempt's operational events are made of: the attempt, its endpoint, and its delivery's
 * `webhook-id` and event type. The attempt recorder's items carry these (and more); naming them here
 * keeps this module below the recorder instead of importing it back.
 */
export interface AttemptFacts {
  attempt: FinishedAttempt;
  endpointId: string;
  webhookId: string;
  eventType: string;
}

const operational = new Set<string>(OPERATIONAL_EVENT_TYPES);

/**
 * Whether a dead delivery of this type is reported by `delivery.exhausted`: not a test send, and
 * not an operational event itself, so two failing endpoints subscribed to each other's
 * exhaustions cannot keep reporting them to one another.
 */
function reportsExhaustion(eventType: string): boolean {
  return eventType !== 'endpoint.test' && !operational.has(eventType);
}

/**
 * The operational events a batch of recorded attempts causes: `delivery.exhausted` for each
 * delivery this batch made dead, `endpoint.disabled` for each endpoint it disabled.
 *
 * @param disabledReasons per item, why its attempt disabled the endpoint, if it did.
 */
export function operationalEvents(
  items: readonly AttemptFacts[],
  recorded: readonly RecordedAttempt[],
  disabledReasons: ReadonlyArray<string | undefined>,
): OperationalEventInput[] {
  const events: OperationalEventInput[] = [];
  items.forEach((item, index) => {
    const { attempt } = item;
    if (attempt.next.status === 'dead' && recorded[index]?.settled && reportsExhaustion(item.eventType)) {
      events.push({
        type: 'delivery.exhausted',
        webhookId: newWebhookId(),
        aboutEndpointId: item.endpointId,
        payload: webhookBody('delivery.exhausted', {
          endpointId: item.endpointId,
          deliveryId: attempt.deliveryId,
          webhookId: item.webhookId,
          eventType: item.eventType,
          attempts: attempt.attempt,
          lastStatusCode: attempt.statusCode,
          lastError: attempt.error,
        }),
      });
    }
    const reason = disabledReasons[index];
    if (reason) {
      events.push({
        type: 'endpoint.disabled',
        webhookId: newWebhookId(),
        aboutEndpointId: item.endpointId,
        payload: webhookBody('endpoint.disabled', { endpointId: item.endpointId, reason }),
      });
    }
  });
  return events;
}
