import type { FastifyInstance } from 'fastify';
import { publishToOutboxes, type RealtimeEventInput } from '../../server/db/outboxes.js';
import { transaction } from '../../server/db/transaction.js';
import { apiAuth } from './app.js';

/** A `message:new` envelope input shaped like docs/realtime.md's, distinct per `n`. */
export function messageNew(accountId: string, n: number, text = `hello ${n}`): RealtimeEventInput {
  return {
    accountId,
    type: 'message:new',
    data: {
      accountId,
      chatId: `chat-${accountId}`,
      messageId: `msg-${accountId}-${n}`,
      text,
      sender: { id: 'att-1', name: 'Ada', providerId: 'prov-ada', profileUrl: 'https://example.com/ada' },
      isSender: false,
      attachments: [],
      sentAt: '2026-11-22T10:00:00.000Z',
    },
  };
}

/**
 * Appends events the way ingest does: one transaction, then the in-process commit signal of the
 * same instance (other instances learn of it through NOTIFY). Returns the highest `seq`.
 */
export async function appendEvents(app: FastifyInstance, events: RealtimeEventInput[]): Promise<number> {
  const { realtimeSeq } = await transaction(app.database.db, (tx) =>
    publishToOutboxes(tx, { realtime: events }),
  );
  if (realtimeSeq === undefined) throw new Error('nothing appended');
  app.changes.emit({ realtimeSeq });
  return realtimeSeq;
}

/** Mints a connection token through the API. */
export async function mintToken(
  app: FastifyInstance,
  accountIds: string[],
  ttlSeconds = 3600,
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/realtime/tokens',
    headers: apiAuth,
    payload: { accountIds, ttlSeconds },
  });
  if (response.statusCode !== 200) throw new Error(`minting failed: ${response.statusCode} ${response.body}`);
  return (response.json() as { token: string }).token;
}

/** The value of a Prometheus counter or gauge without labels. */
export async function metricValue(app: FastifyInstance, name: string): Promise<number> {
  const metric = await app.metrics.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? 0;
}
