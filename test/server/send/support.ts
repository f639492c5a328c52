import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { type FakeAccount, fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { apiAuth, buildTestApp } from '../../support/app.js';
import { type TestDatabaseKind, useTestDatabase } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import { postWebhook, registerAtFake } from '../../support/webhooks.js';

/** Short timings so every path (retry, timeout, lookup) runs in a test's time. */
export const SEND_TEST_ENV = {
  SEND_RETRY_MIN_MS: '20',
  SEND_LOOKUP_DELAY_MS: '50',
  // Long enough that a cold first request on a loaded machine is not taken for a timeout.
  SEND_TIMEOUT_MS: '5000',
  SEND_LEASE_MS: '15000',
  SEND_POLL_INTERVAL_MS: '20',
};

export interface SendHarness {
  readonly app: FastifyInstance;
  readonly fake: FakeUnipile;
}

/**
 * A fake provider and a listening gateway on one test database; the fake delivers its echoes to
 * the gateway's webhook route, as a registered webhook would.
 */
export function useSendHarness(
  kind: TestDatabaseKind,
  env: Record<string, string> = {},
  logger?: FastifyBaseLogger,
): SendHarness {
  const db = useTestDatabase(kind);
  let app: FastifyInstance | undefined;
  let fake: FakeUnipile | undefined;
  beforeAll(async () => {
    fake = await startFakeUnipile();
    app = await buildTestApp(db.current.database, {
      env: { UNIPILE_DSN: fake.url, UNIPILE_API_KEY: fake.apiKey, ...SEND_TEST_ENV, ...env },
      ...(logger ? { logger } : {}),
    });
    registerAtFake(fake, await app.listen({ port: 0, host: '127.0.0.1' }));
  });
  afterAll(async () => {
    // The gateway first: its keep-alive connections to the fake would hold the fake's close.
    await app?.close();
    await fake?.close();
  });
  return {
    get app() {
      if (!app) throw new Error('built in beforeAll');
      return app;
    },
    get fake() {
      if (!fake) throw new Error('started in beforeAll');
      return fake;
    },
  };
}

/** A chat with one message from someone else, so that there is something to reply to. */
export async function openChat(app: FastifyInstance): Promise<{ account: FakeAccount; chatId: string }> {
  const account = fakeAccount();
  const payload = messageReceived({ account });
  const response = await postWebhook(app, payload);
  if (response.statusCode !== 200) throw new Error(`chat setup failed: ${response.body}`);
  return { account, chatId: payload.chat_id };
}

export function send(
  app: FastifyInstance,
  chatId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = apiAuth,
) {
  return app.inject({ method: 'POST', url: `/api/chats/${chatId}/messages`, headers, payload: body });
}

export interface MessageItem {
  messageId: string | null;
  localId?: string;
  status?: string;
  text: string | null;
}

export async function chatMessages(app: FastifyInstance, chatId: string): Promise<MessageItem[]> {
  const response = await app.inject({
    method: 'GET',
    url: `/api/chats/${chatId}/messages`,
    headers: apiAuth,
  });
  return (response.json() as { items: MessageItem[] }).items;
}

/** Waits until the sent message of `localId` has `status`, and returns it. */
export function waitForStatus(app: FastifyInstance, chatId: string, localId: string, status: string) {
  return waitFor(async () => {
    const found = (await chatMessages(app, chatId)).find((item) => item.localId === localId);
    return found?.status === status ? found : undefined;
  }, `${localId} ${status}`);
}

/** The send row as stored. */
export async function sendRow(app: FastifyInstance, localId: string) {
  const [row] = await queryRows<{
    status: string;
    settled_by: string | null;
    last_error: string | null;
    attempts: number;
  }>(
    app.database.db,
    sql`select status, settled_by, last_error, attempts from sends where local_id = ${localId}`,
  );
  return row;
}

/** The statuses the realtime outbox carried for `localId`, in order. */
export async function publishedStatuses(app: FastifyInstance, localId: string): Promise<string[]> {
  const rows = await queryRows<{ status: string }>(
    app.database.db,
    sql`select data->>'status' as status from realtime_events where data->>'localId' = ${localId} order by seq`,
  );
  return rows.map((row) => row.status);
}

/** Webhook bodies received that mention `text` (the echo, once it arrived). */
export async function inboundMentioning(app: FastifyInstance, messageId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    app.database.db,
    sql`select count(*) as n from inbound_events where raw_body like ${`%${messageId}%`}`,
  );
  return Number(row?.n ?? 0);
}
