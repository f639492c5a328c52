import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { buildTestApp } from '../../support/app.js';
import { describePostgres } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { openPostgresBehindProxy, type PostgresBehindProxy } from '../../support/postgres-proxy.js';
import { postWebhook } from '../../support/webhooks.js';

describePostgres('ingest while Postgres is down', () => {
  let postgres: PostgresBehindProxy;
  let app: FastifyInstance;

  beforeAll(async () => {
    postgres = await openPostgresBehindProxy();
    app = await buildTestApp(postgres.viaProxy);
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await postgres?.dispose();
  });

  it('answers 503 HL_ERR_UNAVAILABLE, writes nothing, and stores the provider’s retry exactly once after recovery', async () => {
    const account = fakeAccount();
    const bodies = Array.from({ length: 20 }, () => messageReceived({ account, chatId: 'chat_outage' }));

    await postgres.proxy.cut();
    const during = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(new Set(during.map((response) => response.statusCode))).toEqual(new Set([503]));
    expect(during[0]!.json().error.code).toBe('HL_ERR_UNAVAILABLE');
    expect(await read.inboundFor(postgres.direct.database, account.id)).toEqual([]);

    await postgres.proxy.restore();
    const retried = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(retried.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    const again = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(again.every((response) => response.json().duplicate === true)).toBe(true);

    expect(await read.inboundFor(postgres.direct.database, account.id)).toHaveLength(20);
    expect(await read.realtimeFor(postgres.direct.database, account.id)).toHaveLength(20);
    expect(await read.chat(postgres.direct.database, account.id, 'chat_outage')).toMatchObject({
      unread_count: 20,
    });
  });
});
