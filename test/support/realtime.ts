import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { type Database, openDatabase } from '../../server/db/database.js';
import { transaction } from '../../server/db/transaction.js';
import type { RealtimeEventInput } from '../../server/events/index.js';
import { publishToOutboxes } from '../../server/outbound/index.js';
import { apiAuth, buildTestApp } from './app.js';
import { openTestDatabase, type TestDatabase } from './databases.js';

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

/** Gateway instances sharing one Postgres database, as behind a load balancer. */
export interface InstancesOnOneDatabase {
  /** The shared database (its URL serves connections of a test's own). */
  readonly source: TestDatabase;
  /** The instances started and not yet closed; a test may close some early (splice them out). */
  readonly apps: FastifyInstance[];
  /** Starts one more instance with its own pool, listening on a port of its own. */
  start(): Promise<FastifyInstance>;
}

/**
 * A database for the enclosing describe and the instances its tests start on it, all closed after
 * it. The instances never poll: only the commit signal and NOTIFY may wake their readers.
 */
export function useInstancesOnOneDatabase(): InstancesOnOneDatabase {
  let source: TestDatabase | undefined;
  const databases: Database[] = [];
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    source = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const database of databases) await database.close();
    await source?.dispose();
  });
  const instances: InstancesOnOneDatabase = {
    get source() {
      if (!source) throw new Error('the database is opened in beforeAll');
      return source;
    },
    apps,
    async start() {
      const database = await openDatabase({ kind: 'postgres', url: instances.source.url, poolSize: 4 });
      databases.push(database);
      const app = await buildTestApp(database, { env: { REALTIME_POLL_INTERVAL_MS: '3600000' } });
      apps.push(app);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return app;
    },
  };
  return instances;
}
