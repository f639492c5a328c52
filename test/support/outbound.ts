import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, expect } from 'vitest';
import { deliveryAttempts } from '../../drizzle/schema.js';
import type { Database } from '../../server/db/database.js';
import { transaction } from '../../server/db/transaction.js';
import { newWebhookId, type OutboundEvent, outboundDeliveries } from '../../server/events/index.js';
import { publishToOutboxes } from '../../server/outbound/index.js';
import { apiAuth, buildTestApp } from './app.js';
import { type ReceivedWebhook, startWebhookSink, type WebhookSink } from './webhook-sink.js';

/**
 * An event as tests write it: any field may be left to its default, and `data` may be any shape,
 * since delivery never looks inside it (the shapes themselves are tested in test/server/events/).
 */
export type TestEvent = Partial<Omit<OutboundEvent, 'type' | 'data'>> & { type?: string; data?: unknown };

/** Commits events the way ingest does (enqueue inside a transaction), then signals the commit. */
export async function publishEvents(app: FastifyInstance, events: TestEvent[]): Promise<OutboundEvent[]> {
  const full = events.map((event) => ({
    type: 'message.received',
    accountId: 'acc_1',
    webhookId: newWebhookId(),
    timestamp: new Date().toISOString(),
    data: { accountId: 'acc_1', chatId: 'chat_1', messageId: randomUUID(), text: 'hello' },
    ...event,
  })) as OutboundEvent[];
  const { deliveries } = await transaction(app.database.db, (tx) =>
    publishToOutboxes(tx, { outbound: outboundDeliveries(full) }),
  );
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

/** Fast retries and polling so tests wait milliseconds; the lease still exceeds the timeout. */
export const FAST_OUTBOUND_ENV = {
  OUTBOUND_RETRY_SCHEDULE: '30ms',
  OUTBOUND_POLL_INTERVAL_MS: '50',
  OUTBOUND_TIMEOUT_MS: '2000',
  OUTBOUND_LEASE_MS: '3000',
};

/** Verifies a received request with the independent `standardwebhooks` library; returns the body. */
export function verifyWebhook(secret: string, webhook: ReceivedWebhook): unknown {
  return new Webhook(secret).verify(webhook.body, webhook.headers as Record<string, string>);
}

/** A delivery's logged attempts, oldest first. */
export function attemptsOf(database: Database, deliveryId: number) {
  return database.db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, deliveryId))
    .orderBy(asc(deliveryAttempts.id));
}

/** A pino logger whose JSON lines land in `lines`. */
export function captureLogs(level: pino.Level): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}

/** Apps (with {@link FAST_OUTBOUND_ENV}) and sinks a test starts, closed after it whatever happened. */
export function useOutboundFixtures() {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  return {
    async app(
      database: Database,
      env: Record<string, string> = {},
      logger?: pino.Logger,
    ): Promise<FastifyInstance> {
      const app = await buildTestApp(database, {
        env: { ...FAST_OUTBOUND_ENV, ...env },
        ...(logger ? { logger } : {}),
      });
      await app.ready();
      closers.push(() => app.close());
      return app;
    },
    async sink(options: { delayMs?: number } = {}): Promise<WebhookSink> {
      const sink = await startWebhookSink(options);
      closers.push(() => sink.close());
      return sink;
    },
  };
}
