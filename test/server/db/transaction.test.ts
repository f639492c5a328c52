import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database.js';
import { queryRows } from '../../../server/db/rows.js';
import { transaction } from '../../../server/db/transaction.js';
import { isDatabaseUnavailable } from '../../../server/db/unavailable.js';
import { describePostgres } from '../../support/databases.js';
import { openPostgresBehindProxy, type PostgresBehindProxy } from '../../support/postgres-proxy.js';

describePostgres('transaction() when the connection dies', () => {
  let postgres: PostgresBehindProxy;
  let database: Database;

  beforeAll(async () => {
    postgres = await openPostgresBehindProxy({ poolSize: 2 });
    database = postgres.viaProxy;
  });

  afterAll(async () => {
    await postgres?.dispose();
  });

  it('never leaks a pooled connection: after an outage the pool serves again and closes', async () => {
    const select = (value: number) =>
      transaction(database.db, (tx) => queryRows<{ n: number }>(tx, sql`select ${value}::int as n`));
    expect(await select(1)).toEqual([{ n: 1 }]);
    expect(await select(2)).toEqual([{ n: 2 }]);

    // Both pooled connections are open and idle; the outage kills them under the next transactions.
    await postgres.proxy.cut();
    const failures = await Promise.allSettled([1, 2, 3, 4, 5, 6].map(select));
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      expect(isDatabaseUnavailable((failure as PromiseRejectedResult).reason)).toBe(true);
    }

    await postgres.proxy.restore();
    // With a leak, the pool of 2 would stay exhausted and these would time out.
    expect(await Promise.all([select(3), select(4), select(5)])).toEqual([
      [{ n: 3 }],
      [{ n: 4 }],
      [{ n: 5 }],
    ]);
    await database.close();
  });
});
