import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { TokenScope } from '../../server/http/connection-grant.js';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { buildTestApp, TEST_SECRETS } from './app.js';
import type { TestDatabase } from './databases.js';
import { registerAtFake } from './webhooks.js';

/** What the inbox's gateway runs with. */
export interface InboxGatewayOptions {
  /**
   * Start the fake provider and point the gateway at it (sends polled every 50 ms); `env` adds
   * settings, and `webhooks` registers the gateway's inbound endpoint at the fake, so what is sent
   * comes back as the provider's webhooks.
   */
  provider?: { env?: Record<string, string>; webhooks?: boolean };
}

/** How an inbox link's token differs from a test's usual one (read only, an hour, the gateway's secret). */
export interface InboxTokenOptions {
  scopes?: readonly TokenScope[];
  ttlSeconds?: number;
  /** Signs with another secret: a token the gateway refuses. */
  secret?: string;
}

/** The gateway a browser test's inbox page is served from, and the fake provider behind it. */
export interface InboxGateway {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>`, the same port after every `listen()`. */
  readonly baseUrl: string;
  /** Only with the `provider` option. */
  readonly fake: FakeUnipile;
  /**
   * Builds the gateway (as the options say, or with `build`) and listens on the port it had:
   * "the gateway restarted" after `app.close()`.
   */
  listen(build?: () => Promise<FastifyInstance>): Promise<void>;
  /** The inbox's address with a token for `accountIds`. */
  link(accountIds: readonly string[], options?: InboxTokenOptions): Promise<string>;
  /** Opens the inbox for `accountIds` in `page` and waits until its connection is open. */
  open(page: Page, accountIds: readonly string[], options?: InboxTokenOptions): Promise<void>;
}

/**
 * A gateway listening on loopback for the enclosing describe (built in beforeAll, closed in
 * afterAll with the fake provider), on the test file's database.
 */
export function useInboxGateway(
  db: { readonly current: TestDatabase },
  options: InboxGatewayOptions = {},
): InboxGateway {
  let app: FastifyInstance | undefined;
  let fake: FakeUnipile | undefined;
  let port = 0;
  let baseUrl = '';

  const build = () => {
    const { provider } = options;
    return buildTestApp(
      db.current.database,
      provider && fake
        ? {
            env: {
              UNIPILE_DSN: fake.url,
              UNIPILE_API_KEY: fake.apiKey,
              SEND_POLL_INTERVAL_MS: '50',
              ...provider.env,
            },
          }
        : {},
    );
  };
  const listen = async (builder: () => Promise<FastifyInstance> = build) => {
    app = await builder();
    baseUrl = await app.listen({ port, host: '127.0.0.1' });
    port = Number(new URL(baseUrl).port);
  };
  const link = async (accountIds: readonly string[], token: InboxTokenOptions = {}) => {
    const { token: jwt } = await mintRealtimeToken(
      token.secret ?? TEST_SECRETS.realtimeJwtSecret,
      accountIds,
      token.ttlSeconds ?? 3600,
      token.scopes,
    );
    return `${baseUrl}/?token=${jwt}`;
  };

  beforeAll(async () => {
    if (options.provider) fake = await startFakeUnipile();
    await listen(build);
    if (fake && options.provider?.webhooks) registerAtFake(fake, baseUrl);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  return {
    get app() {
      if (!app) throw new Error('the gateway is built in beforeAll');
      return app;
    },
    get baseUrl() {
      return baseUrl;
    },
    get fake() {
      if (!fake) throw new Error('the fake provider runs only with the provider option');
      return fake;
    },
    listen,
    link,
    async open(page, accountIds, token) {
      // Bounded below the test's own timeout, so that a slow start names this step.
      await page.goto(await link(accountIds, token), { timeout: 10_000 });
      await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    },
  };
}
