import { defineConfig } from 'vitest/config';

/** `npm run test:chaos`: real gateway processes against real Postgres, one scenario per file. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Scenarios start processes and load the machine; running them one at a time keeps their
    // counts honest and the 2-core CI machine responsive.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
