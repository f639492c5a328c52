import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../server/app.js';
import { type Config, parseConfig } from '../../server/config.js';
import type { Database } from '../../server/db/database.js';
import type { Secrets } from '../../server/secrets.js';
import { type TestDatabase, type TestDatabaseKind, useTestDatabase } from './databases.js';

/** Fixed secrets, so tests can authenticate; never used outside tests. */
export const TEST_SECRETS: Secrets = {
  inboundSecret: 'test-inbound-secret-0123456789',
  apiToken: 'test-api-token-0123456789',
  realtimeJwtSecret: 'test-realtime-jwt-secret-0123456789abcdef',
  encryptionKey: Buffer.alloc(32, 7),
};

/** A valid configuration for tests: a throwaway DATA_DIR, private endpoints allowed, silent logs. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'hookline-data-')),
    ALLOW_PRIVATE_ENDPOINTS: 'true',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

export interface TestAppOptions {
  /** Environment overrides, as strings, validated like the real environment. */
  env?: Record<string, string>;
  logger?: FastifyBaseLogger;
}

/** Builds the gateway on an already open test database, the way server/main.ts does for real. */
export function buildTestApp(database: Database, options: TestAppOptions = {}): Promise<FastifyInstance> {
  return buildApp({
    config: testConfig(options.env),
    secrets: TEST_SECRETS,
    database,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export interface TestAppHandle {
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
}

/**
 * One database and one app for the enclosing `describe` (usually a `describe.each` over
 * `testDatabaseKinds()`): created before its tests, closed and dropped after them.
 */
export function useTestApp(kind: TestDatabaseKind, options: TestAppOptions = {}): TestAppHandle {
  const db = useTestDatabase(kind);
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    app = await buildTestApp(db.current.database, options);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    get app() {
      if (!app) throw new Error('the test app is built in beforeAll');
      return app;
    },
    get db() {
      return db.current;
    },
  };
}

/** `Authorization` header for the management API. */
export const apiAuth = { authorization: `Bearer ${TEST_SECRETS.apiToken}` };
