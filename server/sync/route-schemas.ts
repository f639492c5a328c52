import { z } from 'zod';
import { apiTokenSecurity, errorResponses } from '../openapi/schemas.js';
import { storableDatetime } from '../shared/storable.js';

/** Body of `POST /api/sync`: every connected account when `accountId` is absent. */
export const startSyncBody = z
  .strictObject({
    accountId: z.string().min(1).max(512).optional(),
    since: storableDatetime({ offset: true }).optional(),
  })
  .nullish()
  .transform((body) => body ?? {});

/** `GET /api/sync/:id`: a run's id or the id of a request for every account. */
export const syncIdParams = z.strictObject({ id: z.string().min(1).max(200) });

const progress = z
  .looseObject({ id: z.string(), status: z.enum(['running', 'done', 'failed']) })
  .describe('A run (window, position, counts) or a group of runs with their sums (docs/sync.md)');

const sync = { tags: ['sync'], security: apiTokenSecurity };

/** The `schema` of each sync route: what its handler parses, and its answers. */
export const syncRouteSchemas = {
  start: {
    ...sync,
    summary: "Start a catch-up sync (or join the one under way) from the provider's REST API",
    body: startSyncBody,
    response: {
      202: z.looseObject({ id: z.string() }).describe('The sync id; `runs` too for every account'),
      ...errorResponses(400, 401, 429, 503),
    },
  },
  progress: {
    ...sync,
    summary: "A sync's progress and counts",
    params: syncIdParams,
    response: { 200: progress, ...errorResponses(400, 401, 404, 429) },
  },
  accounts: {
    ...sync,
    summary: 'Every account: watermark, lag and the run under way',
    response: {
      200: z.looseObject({ configured: z.boolean(), accounts: z.array(z.looseObject({})) }),
      ...errorResponses(401, 429),
    },
  },
};
