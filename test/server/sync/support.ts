import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { ChangeSignal } from '../../../server/db/change-signal.js';
import {
  UnipileRestClient,
  type UnipileRestClientOptions,
} from '../../../server/providers/unipile/rest-messages.js';
import { SyncEngine, type SyncEngineOptions } from '../../../server/sync/engine.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import type { TestDatabase } from '../../support/databases.js';

/** The fake provider, a REST client for it, and sync engines on the test file's database. */
export interface SyncHarness {
  readonly fake: FakeUnipile;
  readonly client: UnipileRestClient;
  /** A sync engine reading through `client`, three messages a page, silent, unless `options` say otherwise. */
  engine(options?: Partial<SyncEngineOptions>): SyncEngine;
}

/**
 * Starts the fake provider and its client for the enclosing describe (closed after it). The client
 * backs off 5-10 ms so that retries run in a test's time; `clientOptions` add to that.
 */
export function useSyncHarness(
  db: { readonly current: TestDatabase },
  clientOptions: Partial<UnipileRestClientOptions> = {},
): SyncHarness {
  let fake: FakeUnipile | undefined;
  let client: UnipileRestClient | undefined;
  beforeAll(async () => {
    fake = await startFakeUnipile();
    client = new UnipileRestClient({
      dsn: fake.url,
      apiKey: fake.apiKey,
      retryMinMs: 5,
      retryMaxMs: 10,
      ...clientOptions,
    });
  });
  afterAll(async () => {
    await client?.close();
    await fake?.close();
  });

  const harness: SyncHarness = {
    get fake() {
      if (!fake) throw new Error('the fake provider starts in beforeAll');
      return fake;
    },
    get client() {
      if (!client) throw new Error('the client is made in beforeAll');
      return client;
    },
    engine: (options = {}) =>
      new SyncEngine({
        database: db.current.database,
        client: harness.client,
        changes: new ChangeSignal(),
        logger: pino({ level: 'silent' }),
        pageSize: 3,
        ...options,
      }),
  };
  return harness;
}
