import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HooklineError } from '../errors.js';
import { requires } from '../http/credentials.js';
import type { SyncEngine } from './engine.js';
import { findSyncRun, findSyncRunsOfGroup, listSyncAccounts, type SyncRunRecord } from './queries/sync.js';
import { startSyncBody, syncIdParams, syncRouteSchemas } from './route-schemas.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** A run as the API shows it: window, position and counts (never the provider cursor itself). */
export function syncRunView(run: SyncRunRecord) {
  return {
    id: run.id,
    accountId: run.accountId,
    status: run.status,
    trigger: run.trigger,
    windowFrom: iso(run.windowFrom),
    windowTo: iso(run.windowTo),
    oldestSeen: iso(run.oldestSeen),
    pages: run.pages,
    messages: run.messages,
    newMessages: run.newMessages,
    duplicates: run.duplicates,
    updated: run.updated,
    skipped: run.skipped,
    error: run.error ?? null,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

/** Sums the runs of one request for every account. */
function groupView(id: string, runs: SyncRunRecord[]) {
  const sum = (pick: (run: SyncRunRecord) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const status = runs.some((run) => run.status === 'running')
    ? 'running'
    : runs.some((run) => run.status === 'failed')
      ? 'failed'
      : 'done';
  return {
    id,
    status,
    messages: sum((run) => run.messages),
    newMessages: sum((run) => run.newMessages),
    duplicates: sum((run) => run.duplicates),
    updated: sum((run) => run.updated),
    skipped: sum((run) => run.skipped),
    runs: runs.map(syncRunView),
  };
}

function unconfigured(): HooklineError {
  return new HooklineError('HL_ERR_UNAVAILABLE', 'Sync needs UNIPILE_DSN and UNIPILE_API_KEY', {
    details: { reason: 'sync_not_configured' },
  });
}

/**
 * `POST /api/sync` (202 with the run's id, or the running one's), `GET /api/sync/:id` (progress and
 * counts of a run or of a request for every account) and `GET /api/sync` (per-account watermark,
 * lag and current run). API token required.
 */
export async function syncRoutes(app: FastifyInstance, engine: SyncEngine | undefined): Promise<void> {
  app.post(
    '/api/sync',
    { schema: syncRouteSchemas.start, config: requires('api') },
    async function startSync(request, reply) {
      const body = startSyncBody.parse(request.body);
      if (!engine) throw unconfigured();
      const since = body.since ? new Date(body.since) : undefined;
      const options = { trigger: 'api' as const, ...(since ? { since } : {}) };
      if (body.accountId) {
        const { id } = await engine.start(body.accountId, options);
        return reply.status(202).send({ id });
      }
      const groupId = `syncgroup_${randomUUID()}`;
      const runs = await engine.startAll({ ...options, groupId });
      return reply.status(202).send({ id: groupId, runs });
    },
  );

  app.get(
    '/api/sync/:id',
    { schema: syncRouteSchemas.progress, config: requires('api') },
    async function syncProgress(request) {
      const { id } = syncIdParams.parse(request.params);
      const run = await findSyncRun(app.database.db, id);
      if (run) return syncRunView(run);
      const runs = await findSyncRunsOfGroup(app.database.db, id);
      if (runs.length === 0) throw new HooklineError('HL_ERR_NOT_FOUND', 'No sync with this id');
      return groupView(id, runs);
    },
  );

  app.get(
    '/api/sync',
    { schema: syncRouteSchemas.accounts, config: requires('api') },
    async function syncAccounts() {
      const rows = await listSyncAccounts(app.database.db);
      const now = Date.now();
      return {
        configured: engine !== undefined,
        providerAuth: engine?.authFailure ? engine.authFailure.reason : 'ok',
        accounts: rows.map(({ account, run }) => ({
          accountId: account.accountId,
          watermark: iso(account.watermark),
          lagSeconds: account.watermark
            ? Math.max(0, Math.round((now - account.watermark.getTime()) / 1000))
            : null,
          running: run?.status === 'running',
          run: run ? syncRunView(run) : null,
        })),
      };
    },
  );
}
