/**
 * The test harness's view of its environment. Test support code is the only place besides
 * server/config.ts that reads process.env: it configures the harness, never the gateway.
 */
export const testEnv = {
  /**
   * A Postgres server for the suite, e.g. postgres://postgres@127.0.0.1:5432/test. Unset: the run
   * starts an embedded cluster of its own (test/support/global-setup.ts).
   */
  databaseUrl: process.env.TEST_DATABASE_URL || undefined,
  /** In CI a missing service fails the run instead of skipping tests. */
  ci: process.env.CI === 'true' || process.env.CI === '1',
};
