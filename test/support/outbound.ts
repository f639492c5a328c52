import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { enqueueDeliveries, type OutboundEvent } from '../../server/outbound/enqueue.js';
import { apiAuth } from './app.js';

/** Commits events the way ingest does (enqueue inside a transaction), then signals the commit. */
export async function publishEvents(
  app: FastifyInstance,
  events: Array<Partial<OutboundEvent>>,
): Promise<OutboundEvent[]> {
  const full = events.map((event) => ({
    type: 'message.received',
    accountId: 'acc_1',
    webhookId: `msg_${randomUUID().replaceAll('-', '')}`,
    timestamp: new Date().toISOString(),
    data: { accountId: 'acc_1', chatId: 'chat_1', messageId: randomUUID(), text: 'hello' },
    ...event,
  }));
  const deliveries = await app.database.db.transaction((tx) => enqueueDeliveries(tx, full));
  app.changes.emit({ deliveries });
  return full;
}

/** Creates an endpoint through the API; returns its id and the secret shown once. */
export async function createEndpoint(
  app: FastifyInstance,
  body: Record<string, unknown>,
): Promise<{ id: string; secret: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/endpoints',
    headers: apiAuth,
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(201);
  const created = response.json() as { id: string; secret: string };
  return { id: created.id, secret: created.secret };
}

export interface DeliveryView {
  id: number;
  webhookId: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** The endpoint's deliveries through the API, newest first (up to 200). */
export async function endpointDeliveries(
  app: FastifyInstance,
  endpointId: string,
  status?: string,
): Promise<DeliveryView[]> {
  const query = `?limit=200${status ? `&status=${status}` : ''}`;
  const response = await app.inject({
    method: 'GET',
    url: `/api/endpoints/${endpointId}/deliveries${query}`,
    headers: apiAuth,
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { data: DeliveryView[] }).data;
}
