import type { SQL } from 'drizzle-orm';
import type { Executor } from './database.js';

/**
 * Runs a `sql` template and returns its rows typed as `T`. Both drivers answer `{ rows }`; the
 * shared drizzle type cannot say so, hence this one narrow cast.
 */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
