import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../../server/app.js';
import { createLogger } from '../../../../server/ops/logger.js';
import type { Secrets } from '../../../../server/secrets.js';
import type { Tunnel } from '../../../../server/tunnel/tunnel.js';
import { type FakeUnipile, startFakeUnipile } from '../../../../tools/fake-unipile/server.js';
import { TEST_SECRETS, testConfig } from '../../../support/app.js';
import { useTestDatabase } from '../../../support/databases.js';
import { startTcpProxy } from '../../../support/tcp-proxy.js';

const API_KEY = 'plugin-test-api-key-0123456789';
const WRONG_KEY = 'plugin-test-wrong-key-0123456789';
const NGROK_TOKEN = 'plugin-test-invalid-ngrok-token';
const INGEST = '/api/webhooks/unipile/messages';

/** Every log line of this file, to prove that no secret ever reaches one. */
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: { write: (line: string) => logLines.push(line) },
});

const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;

const waitFor = <T>(check: () => T) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

describe('provider registration at startup', () => {
  const db = useTestDatabase('postgres');
  let fake: FakeUnipile;
  const apps: FastifyInstance[] = [];

  const build = async (
    env: Record<string, string> = {},
    extra: { secrets?: Secrets; tunnel?: Tunnel } = {},
  ): Promise<FastifyInstance> => {
    const app = await buildApp({
      config: testConfig({
        UNIPILE_DSN: fake.url,
        UNIPILE_API_KEY: API_KEY,
        UNIPILE_WEBHOOK_INSTANCE: 'test',
        UNIPILE_RETRY_MIN_MS: '20',
        UNIPILE_RETRY_MAX_MS: '200',
        // Registration only: the startup catch-up sync would call the fake provider too.
        UNIPILE_SYNC_INTERVAL_SECONDS: '0',
        WEBHOOK_BASE_URL: 'https://hooks.example.com',
        ...env,
      }),
      secrets: extra.secrets ?? TEST_SECRETS,
      database: db.current.database,
      logger,
      ...(extra.tunnel ? { tunnel: extra.tunnel } : {}),
    });
    apps.push(app);
    return app;
  };
  const start = async (app: FastifyInstance) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  };
  const registered = async (app: FastifyInstance) => {
    await waitFor(() => expect(app.registration.status.state).toBe('ok'));
    return app.registration.status;
  };

  beforeEach(async () => {
    fake = await startFakeUnipile({ apiKey: API_KEY, pageSize: 2, delivery: { retries: 0 } });
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await fake.close();
  });

  it('first start registers both sources and reports ok in /readyz and /metrics', async () => {
    const app = await start(await build());
    const status = await registered(app);
    expect(status.webhooks?.map((result) => [result.source, result.action])).toEqual([
      ['messaging', 'created'],
      ['account_status', 'created'],
    ]);
    expect(fake.state.webhooks.map((webhook) => [webhook.name, webhook.request_url])).toEqual([
      [expect.stringMatching(/^hookline:test:[0-9a-f]{12}:messaging$/), `https://hooks.example.com${INGEST}`],
      [
        expect.stringMatching(/^hookline:test:[0-9a-f]{12}:account_status$/),
        `https://hooks.example.com${INGEST}`,
      ],
    ]);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ checks: { registration: { ok: true, state: 'ok' } } });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('hookline_registration_state{state="ok"} 1');
    expect(metrics).toContain('hookline_registration_state{state="pending"} 0');
  });

  it('a restart reuses our webhooks: never a second one', async () => {
    const first = await start(await build());
    const ids = (await registered(first)).webhooks?.map((result) => result.webhookId);
    await first.close();
    const second = await start(await build());
    const status = await registered(second);
    expect(status.webhooks?.map((result) => result.action)).toEqual(['reused', 'reused']);
    expect(fake.state.webhooks.map((webhook) => webhook.id)).toEqual(ids);
    expect(fake.state.operations.filter((op) => op.op === 'create')).toHaveLength(2);
  });

  it('a changed base URL or secret replaces ours, the new one created before the old is deleted', async () => {
    const first = await start(await build({ WEBHOOK_BASE_URL: 'https://old-tunnel.example' }));
    const oldIds = (await registered(first)).webhooks!.map((result) => result.webhookId);
    await first.close();

    const second = await start(await build({ WEBHOOK_BASE_URL: 'https://new-tunnel.example' }));
    const replaced = await registered(second);
    expect(replaced.webhooks?.map((result) => result.action)).toEqual(['replaced', 'replaced']);
    for (const [index, result] of replaced.webhooks!.entries()) {
      const created = fake.state.operations.find((op) => op.op === 'create' && op.id === result.webhookId)!;
      const deleted = fake.state.operations.find((op) => op.op === 'delete' && op.id === oldIds[index])!;
      expect(created.seq).toBeLessThan(deleted.seq);
    }
    await second.close();

    const rotated = { ...TEST_SECRETS, inboundSecret: 'rotated-inbound-secret-0123456789' };
    const third = await start(
      await build({ WEBHOOK_BASE_URL: 'https://new-tunnel.example' }, { secrets: rotated }),
    );
    expect((await registered(third)).webhooks?.map((result) => result.action)).toEqual([
      'replaced',
      'replaced',
    ]);
    expect(fake.state.webhooks).toHaveLength(2);
    for (const webhook of fake.state.webhooks) {
      expect(webhook.headers).toContainEqual({ key: 'Unipile-Auth', value: rotated.inboundSecret });
    }
  });

  it('provider down at start: the server serves meanwhile and registers once the provider is up', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(fake.url).port) });
    try {
      await proxy.cut();
      const app = await start(await build({ UNIPILE_DSN: `http://127.0.0.1:${proxy.port}` }));
      await waitFor(() => expect(app.registration.status.attempts).toBeGreaterThanOrEqual(2));
      expect(app.registration.status).toMatchObject({
        state: 'pending',
        reason: expect.stringContaining('unreachable'),
      });
      const base = `http://127.0.0.1:${portOf(app)}`;
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { registration: { ok: false, state: 'pending' } } });
      expect(fake.state.webhooks).toEqual([]);

      await proxy.restore();
      await registered(app);
      expect(fake.state.webhooks).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('a 401 from the provider: failed with the reason, and the instance stays ready', async () => {
    const app = await start(await build({ UNIPILE_API_KEY: WRONG_KEY }));
    await waitFor(() => expect(app.registration.status.state).toBe('failed'));
    expect(app.registration.status.reason).toContain('401');
    expect(app.registration.status.reason).toContain('errors/missing_credentials');
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      checks: { registration: { ok: false, state: 'failed', reason: 'provider_unauthorized' } },
    });
    expect(ready.body).not.toContain('missing_credentials');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'hookline_registration_state{state="failed"} 1',
    );
  });

  it('a key refused while running: retried with backoff, one line per attempt without a stack trace, then registered', async () => {
    fake.misbehave.set({ refuseKey: true });
    const from = logLines.length;
    const app = await start(await build());
    await waitFor(() => expect(app.registration.status.attempts).toBeGreaterThanOrEqual(3));
    expect(app.registration.status).toMatchObject({ state: 'failed', refusedKey: 'unauthorized' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({
      checks: { registration: { ok: false, state: 'failed', reason: 'provider_unauthorized' } },
    });
    const lines = logLines
      .slice(from)
      .map((line) => JSON.parse(line) as { msg: string; err?: unknown; refusedKey?: string })
      .filter((line) => line.msg.includes('UNIPILE_API_KEY'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).toMatchObject({ refusedKey: 'unauthorized' });
      expect(line.err).toBeUndefined();
      expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
    }

    fake.misbehave.reset();
    await registered(app);
    expect(fake.state.webhooks).toHaveLength(2);
  });

  it.each([
    ['UNIPILE_DSN', { UNIPILE_DSN: '' }],
    ['UNIPILE_API_KEY', { UNIPILE_API_KEY: '' }],
    ['WEBHOOK_BASE_URL', { WEBHOOK_BASE_URL: '' }],
  ])('without %s: disabled with one log line, and the provider is never called', async (name, env) => {
    const from = logLines.length;
    const app = await start(await build(env));
    expect(app.registration.status).toMatchObject({
      state: 'disabled',
      reason: expect.stringContaining(name),
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ checks: { registration: { ok: true, state: 'disabled' } } });
    const skipped = logLines.slice(from).filter((line) => line.includes('registration skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain(name);
    expect(fake.state.requests).toEqual([]);
  });

  it('a tunnel: opened on the listening port after listen, registered, delivered through, closed', async () => {
    const events: string[] = [];
    const tunnel: Tunnel = {
      async open(port) {
        events.push(`open ${port}`);
        return { url: `http://127.0.0.1:${port}`, close: async () => void events.push('close') };
      },
    };
    const app = await build({ WEBHOOK_BASE_URL: '' }, { tunnel });
    const seen: { auth: unknown; contentType: unknown }[] = [];
    app.addHook('onRequest', async (request) => {
      if (request.url === INGEST) {
        seen.push({ auth: request.headers['unipile-auth'], contentType: request.headers['content-type'] });
      }
    });
    await start(app);
    const port = portOf(app);
    await registered(app);
    expect(events).toEqual([`open ${port}`]);
    expect(app.registration.tunnelUrl).toBe(`http://127.0.0.1:${port}`);
    expect(fake.state.webhooks.map((webhook) => webhook.request_url)).toEqual([
      `http://127.0.0.1:${port}${INGEST}`,
      `http://127.0.0.1:${port}${INGEST}`,
    ]);

    const { deliveries } = await fake.sendMessage({ text: 'through the tunnel' });
    expect(deliveries).toHaveLength(1);
    expect(typeof deliveries[0]!.attempts[0]).toBe('number');
    expect(seen).toEqual([{ auth: TEST_SECRETS.inboundSecret, contentType: 'application/json' }]);

    await app.close();
    expect(events).toEqual([`open ${port}`, 'close']);
  });

  it('WEBHOOK_BASE_URL wins over a tunnel, which then never opens', async () => {
    const events: number[] = [];
    const tunnel: Tunnel = {
      async open(port) {
        events.push(port);
        return { url: 'https://unused.example', close: async () => {} };
      },
    };
    const app = await start(await build({}, { tunnel }));
    await registered(app);
    expect(fake.state.webhooks[0]?.request_url).toBe(`https://hooks.example.com${INGEST}`);
    expect(events).toEqual([]);
    expect(app.registration.tunnelUrl).toBeUndefined();
  });

  it('a tunnel that fails to open: failed with the reason, and the provider is never called', async () => {
    const tunnel: Tunnel = {
      open: async () => {
        throw new Error('no route to the tunnel service');
      },
    };
    const app = await start(await build({ WEBHOOK_BASE_URL: '' }, { tunnel }));
    await waitFor(() => expect(app.registration.status.state).toBe('failed'));
    expect(app.registration.status.reason).toContain('no route to the tunnel service');
    expect(fake.state.requests).toEqual([]);
  });

  it('NGROK_AUTHTOKEN without WEBHOOK_BASE_URL uses the ngrok tunnel; one that cannot open reports failed', async () => {
    const app = await start(await build({ WEBHOOK_BASE_URL: '', NGROK_AUTHTOKEN: NGROK_TOKEN }));
    await waitFor(() => expect(app.registration.status.state).toBe('failed'));
    expect(app.registration.status.reason).toContain('tunnel failed to open');
    expect(fake.state.requests).toEqual([]);
  });

  it('UNIPILE_DEREGISTER_ON_SHUTDOWN deletes ours on close; by default they stay', async () => {
    const keeping = await start(await build());
    await registered(keeping);
    await keeping.close();
    expect(fake.state.webhooks).toHaveLength(2);

    const foreign = fake.addWebhook({ name: 'someone-else', request_url: 'https://x.example' });
    const leaving = await start(await build({ UNIPILE_DEREGISTER_ON_SHUTDOWN: 'true' }));
    await registered(leaving);
    await leaving.close();
    expect(fake.state.webhooks).toEqual([foreign]);
  });

  it('a restart recreates ours found disabled, and says so in the log', async () => {
    const first = await start(await build());
    const [messaging] = (await registered(first)).webhooks!;
    await first.close();
    fake.disableWebhook(messaging!.webhookId);
    const second = await start(await build());
    const status = await registered(second);
    expect(status.webhooks?.map((result) => result.action)).toEqual(['replaced', 'reused']);
    expect(fake.state.webhooks.every((webhook) => webhook.enabled)).toBe(true);
    expect(
      logLines.some((line) => line.includes('found disabled') && line.includes(messaging!.webhookId)),
    ).toBe(true);
  });

  it('no log line of this file carries the API key, a wrong key, the ngrok token or the inbound secret', () => {
    expect(logLines.some((line) => line.includes('Unipile registration failed'))).toBe(true);
    expect(logLines.some((line) => line.includes('registered with Unipile'))).toBe(true);
    for (const secret of [
      API_KEY,
      WRONG_KEY,
      TEST_SECRETS.inboundSecret,
      'rotated-inbound-secret-0123456789',
    ]) {
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
