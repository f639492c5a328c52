import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../server/app.js';
import { TEST_SECRETS, testConfig, useTestApp } from '../../support/app.js';
import { describePostgres, testDatabaseKinds } from '../../support/databases.js';
import { openPostgresBehindProxy, type PostgresBehindProxy } from '../../support/postgres-proxy.js';
import { waitFor } from '../../support/wait.js';

describe.each(testDatabaseKinds())('health and readiness on %s', (kind) => {
  const t = useTestApp(kind);

  it('GET /healthz answers 200 while the process runs', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with the database check', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ready', checks: { database: { ok: true } } });
  });

  it('GET /readyz names a failing check with a reason code, never its error text', async () => {
    t.app.addReadinessCheck('throws', {
      critical: true,
      run: () => {
        throw new Error('connect ECONNREFUSED postgres://hookline:hunter2@db:5432');
      },
    });
    t.app.addReadinessCheck('wordy', {
      critical: false,
      run: () => ({ ok: false, state: 'failed', reason: 'Unipile said: invalid key sk_live_x' }),
    });
    try {
      const response = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json().error.details).toMatchObject({
        failed: ['throws'],
        checks: {
          throws: { ok: false, reason: 'check_failed' },
          wordy: { ok: false, state: 'failed', reason: 'check_failed' },
        },
      });
      expect(response.body).not.toMatch(/ECONNREFUSED|hunter2|sk_live|Unipile said/);
    } finally {
      t.app.addReadinessCheck('throws', { critical: false, run: () => ({ ok: true }) });
      t.app.addReadinessCheck('wordy', { critical: false, run: () => ({ ok: true }) });
    }
  });

  it('GET /metrics serves Prometheus text with process metrics', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('hookline_process_cpu_user_seconds_total');
  });
});

describe.each(testDatabaseKinds())('GET /metrics with METRICS_TOKEN on %s', (kind) => {
  const token = 'metrics-token-0123456789';
  const t = useTestApp(kind, { env: { METRICS_TOKEN: token } });

  it('requires the token as a bearer, and serves the event-loop delay with it', async () => {
    const without = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(without.statusCode).toBe(401);
    expect(without.json().error.code).toBe('HL_ERR_UNAUTHORIZED');
    const wrong = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer not-the-token' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('hookline_nodejs_eventloop_lag_p99_seconds');
    // Health and readiness stay open: orchestrators probe them without credentials.
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});

describePostgres('readiness when Postgres goes away and comes back', () => {
  let postgres: PostgresBehindProxy;
  let app: Awaited<ReturnType<typeof buildApp>>;

  beforeAll(async () => {
    postgres = await openPostgresBehindProxy();
    app = await buildApp({ config: testConfig(), secrets: TEST_SECRETS, database: postgres.viaProxy });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await postgres?.dispose();
  });

  it('turns 503 naming the database check, then 200 again without a restart', async () => {
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    await postgres.proxy.cut();
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({
      error: {
        code: 'HL_ERR_UNAVAILABLE',
        details: {
          failed: ['database'],
          checks: { database: { ok: false, state: 'failed', reason: 'database_unreachable' } },
        },
      },
    });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await postgres.proxy.restore();
    // Recovery is eventual: the pool may still hand out a connection the cut killed before it
    // noticed, and that check fails (503) while the pool replaces it. No restart is needed.
    await waitFor(
      async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200,
      'readyz to answer 200 again after the proxy is restored',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });
});
