import type pg from 'pg';
import { apiHeaders } from './gateway-process.js';

/**
 * Outbound tuning for chaos runs: retries every 250 ms (the last delay of a schedule repeats) and
 * a 100 ms poll, so an outage of seconds costs seconds; the lease still exceeds the timeout.
 */
export const FAST_OUTBOUND_ENV = {
  OUTBOUND_RETRY_SCHEDULE: '250ms',
  OUTBOUND_POLL_INTERVAL_MS: '100',
  OUTBOUND_TIMEOUT_MS: '3000',
  OUTBOUND_LEASE_MS: '4000',
};

/** Registers a subscriber endpoint through the API; returns its id and `whsec_` secret. */
export async function createEndpoint(
  gatewayUrl: string,
  url: string,
): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${gatewayUrl}/api/endpoints`, {
    method: 'POST',
    headers: apiHeaders,
    // A generous budget: the scenario is about outages, not about giving up.
    body: JSON.stringify({ url, eventTypes: ['message.received'], maxAttempts: 100 }),
  });
  if (response.status !== 201)
    throw new Error(`endpoint creation: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; secret: string };
}

export interface DeliveryCounts {
  /** Deliveries per status (`pending`, `delivering`, `succeeded`, `failed`, `dead`). */
  byStatus: Record<string, number>;
  total: number;
  /** Logged attempts across all deliveries. */
  attempts: number;
  /** Message ids of the `message.received` deliveries owed. */
  messageIds: string[];
  webhookIds: string[];
}

export async function deliveryCounts(pool: pg.Pool): Promise<DeliveryCounts> {
  const rows = (
    await pool.query<{ status: string; webhook_id: string; message_id: string; attempts: number }>(
      `select status, webhook_id, payload->'data'->>'messageId' as message_id, attempts from deliveries`,
    )
  ).rows;
  const byStatus: Record<string, number> = {};
  for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  const logged = await pool.query<{ n: number }>('select count(*)::int as n from delivery_attempts');
  return {
    byStatus,
    total: rows.length,
    attempts: logged.rows[0]!.n,
    messageIds: rows.map((row) => row.message_id),
    webhookIds: rows.map((row) => row.webhook_id),
  };
}
