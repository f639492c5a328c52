/**
 * The Postgres server every benchmark runs on: `BENCH_DATABASE_URL`, default the local server
 * (`postgres://postgres@127.0.0.1:5432/postgres`). A benchmark connects there only to create a
 * database of its own, cloned from the test template, and drops it afterwards.
 */
export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
