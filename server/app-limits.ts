/** Largest request body accepted anywhere: the provider's webhooks (1 MiB, 413 above). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Largest body of the JSON management and read routes (64 KiB, 413 above): their biggest
 * legitimate body (an endpoint with 20 custom headers and 1,000 account ids) is well under it,
 * and a smaller limit bounds what an authenticated but misbehaving caller can make the server parse.
 */
export const API_BODY_LIMIT_BYTES = 64 * 1024;
