import { z } from 'zod';
import { storableDatetime } from '../shared/storable.js';

/** `POST /api/deliveries/retry`: which dead or failed deliveries to re-queue. */
export const bulkRetryBody = z.strictObject({
  status: z.enum(['dead', 'failed']),
  /** Only deliveries created at or after this time. */
  since: storableDatetime({ offset: true }).optional(),
  endpointId: z.string().min(1).max(100).optional(),
});

/** `POST /api/deliveries/retry`: how many deliveries went back to the queue. */
export const bulkRetryResponse = z.object({ requeued: z.number() });

const isoDate = z.iso.datetime({ offset: true });

/** `POST /api/outbound/pause` and `/resume`: the pool's state afterwards. */
export const poolStateResponse = z.object({ paused: z.boolean(), pausedAt: isoDate.nullable() });

const queueCounts = z.object({
  pending: z.number(),
  scheduledForRetry: z.number(),
  inFlight: z.number(),
  dead: z.number(),
  oldestPendingAgeSeconds: z.number().nullable(),
  deliveredPerSecond: z.number(),
});

/** `GET /api/outbound/stats`: the queue overall and per endpoint. */
export const queueStatsResponse = z.object({
  paused: z.boolean(),
  pausedAt: isoDate.nullable(),
  total: queueCounts,
  endpoints: z.array(
    queueCounts.extend({ endpointId: z.string(), paused: z.boolean(), enabled: z.boolean() }),
  ),
});
