import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../../server/db/rows.js';
import { testDatabaseKinds, useTestDatabase } from '../../support/databases.js';
import { functionSources, normalizeSql } from '../../support/sql-functions.js';

interface LiveFunction {
  name: string;
  arguments: string;
  result: string;
  body: string;
}

describe.each(testDatabaseKinds())('SQL functions on %s', (kind) => {
  const db = useTestDatabase(kind);

  const live = () =>
    queryRows<LiveFunction>(
      db.current.database.db,
      sql`select p.proname as name, pg_get_function_arguments(p.oid) as arguments,
        pg_get_function_result(p.oid) as result, p.prosrc as body
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.proname like 'hookline\\_%'
      order by p.proname`,
    );

  it('has exactly one definition of each hookline_* function, and one file for each', async () => {
    const sources = await functionSources();
    const functions = await live();

    expect(functions.map((fn) => fn.name)).toEqual(sources.map((source) => source.name).sort());
    for (const source of sources) expect(source.name).toBe(source.file);
  });

  it('runs each function as its file defines it', async () => {
    const byName = new Map((await live()).map((fn) => [fn.name, fn]));
    for (const source of await functionSources()) {
      const fn = byName.get(source.name);
      expect(fn?.body, source.name).toBe(source.body);
      expect(normalizeSql(fn?.arguments ?? ''), source.name).toBe(normalizeSql(source.parameters));
      expect(normalizeSql(fn?.result ?? ''), source.name).toBe(normalizeSql(source.returns));
    }
  });
});
