/** Largest request body accepted anywhere (docs/ingest.md: 1 MiB, 413 above). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
