import { z } from 'zod';
import { errorResponse, textResponse } from '../openapi/schemas.js';

const ops = { tags: ['operations'] };

const checkResult = z.object({ ok: z.boolean() }).loose();

/** The `schema` of the health, readiness and metrics routes (docs/operations.md). */
export const opsRouteSchemas = {
  healthz: {
    ...ops,
    summary: 'Liveness: the process runs',
    response: { 200: z.object({ status: z.literal('ok') }) },
  },
  readyz: {
    ...ops,
    summary: 'Readiness: every critical check passes',
    response: {
      200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), checkResult) }),
      503: errorResponse.describe('HL_ERR_UNAVAILABLE; details.failed names the failed checks'),
    },
  },
  metrics: {
    ...ops,
    summary: 'Prometheus metrics',
    response: { 200: textResponse('text/plain', 'Prometheus text format, names prefixed hookline_') },
  },
};
