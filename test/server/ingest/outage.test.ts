import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { fakeAccount, messageReceived } from '../../../tools/fake-unipile/payloads.js';
import { buildTestApp } from '../../support/app.js';
import { describePostgres, openTestDatabase, type TestDatabase } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { postWebhook } from '../../support/webhooks.js';

describePostgres('ingest while Postgres is down', () => {
  let direct: TestDatabase;
  let proxy: TcpProxy;
  let app: FastifyInstance;

  beforeAll(async () => {
    direct = await openTestDatabase('postgres');
    const target = new URL(direct.url!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.port = String(proxy.port);
    const viaProxy = await openDatabase({
      kind: 'postgres',
      url: target.toString(),
      connectionTimeoutMs: 1000,
    });
    app = await buildTestApp(viaProxy);
    app.addHook('onClose', () => viaProxy.close());
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await direct?.dispose();
  });

  it('answers 503 HL_ERR_UNAVAILABLE, writes nothing, and stores the provider’s retry exactly once after recovery', async () => {
    const account = fakeAccount();
    const bodies = Array.from({ length: 20 }, () => messageReceived({ account, chatId: 'chat_outage' }));

    await proxy.cut();
    const during = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(new Set(during.map((response) => response.statusCode))).toEqual(new Set([503]));
    expect(during[0]!.json().error.code).toBe('HL_ERR_UNAVAILABLE');
    expect(await read.inboundFor(direct.database, account.id)).toEqual([]);

    await proxy.restore();
    const retried = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(retried.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    const again = await Promise.all(bodies.map((body) => postWebhook(app, body)));
    expect(again.every((response) => response.json().duplicate === true)).toBe(true);

    expect(await read.inboundFor(direct.database, account.id)).toHaveLength(20);
    expect(await read.realtimeFor(direct.database, account.id)).toHaveLength(20);
    expect(await read.chat(direct.database, account.id, 'chat_outage')).toMatchObject({ unread_count: 20 });
  });
});
