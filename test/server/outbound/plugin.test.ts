import { describe, expect, it } from 'vitest';
import type { HooklineError } from '../../../server/errors.js';
import { buildTestApp } from '../../support/app.js';
import { useTestDatabase } from '../../support/databases.js';

describe('outbound configuration at startup', () => {
  const db = useTestDatabase('postgres');

  async function startupError(env: Record<string, string>): Promise<HooklineError | undefined> {
    try {
      const app = await buildTestApp(db.current.database, { env });
      await app.close();
      return undefined;
    } catch (error) {
      return error as HooklineError;
    }
  }

  it.each([
    ['a lease not longer than the timeout', { OUTBOUND_TIMEOUT_MS: '5000', OUTBOUND_LEASE_MS: '5000' }],
    ['an unreadable retry schedule', { OUTBOUND_RETRY_SCHEDULE: '5s,soon' }],
  ])('refuses %s with HL_ERR_CONFIG', async (_name, env) => {
    expect((await startupError(env))?.code).toBe('HL_ERR_CONFIG');
  });

  it('starts with the defaults', async () => {
    expect(await startupError({})).toBeUndefined();
  });
});
