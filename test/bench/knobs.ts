/** Settings a benchmark may pass to its Hookline server through its environment. */
const KNOBS =
  /^(INGEST_|OUTBOUND_|REALTIME_|SEND_|UNIPILE_SYNC_|UNIPILE_DSN$|UNIPILE_API_KEY$|ALLOW_PRIVATE_ENDPOINTS$)/;

/**
 * The tuning knobs in `env`, for a benchmark's `parseConfig`, so that a run can compare settings:
 * `INGEST_CONCURRENCY=1 npm run bench:fanout`.
 */
export function tuningKnobs(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => KNOBS.test(name)));
}
