import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { HooklineError } from '../errors.js';
import { closeIfBodyPending } from '../http/auth-failures.js';

/** How long a client refused for too many uploads in flight is asked to wait. */
const RETRY_AFTER_SECONDS = 2;

/**
 * Caps the multipart sends read at once on this instance (SEND_MAX_UPLOADS_IN_FLIGHT): each
 * buffers up to SEND_ATTACHMENTS_MAX_TOTAL_BYTES, so the cap bounds what uploads hold in memory.
 * A slot is taken in `onRequest`, after the credentials, before a byte of the body is read, and
 * given back when the answer is sent or the connection ends.
 */
export class UploadGate {
  readonly #max: number;
  readonly #gauge: Gauge;
  #inFlight = 0;

  constructor(max: number, registry: Registry) {
    this.#max = max;
    this.#gauge = new Gauge({
      name: 'hookline_send_uploads_in_flight',
      help: 'Multipart sends being read on this instance (at most SEND_MAX_UPLOADS_IN_FLIGHT)',
      registers: [registry],
    });
  }

  /** Takes a slot for a multipart request, or throws `503 HL_ERR_UNAVAILABLE` with `Retry-After`. */
  admit(request: FastifyRequest, reply: FastifyReply): void {
    // By its Content-Type: @fastify/multipart's isMultipart() only knows once the body is parsed.
    if (!/^multipart\/form-data\b/i.test(request.headers['content-type'] ?? '')) return;
    if (this.#inFlight >= this.#max) {
      closeIfBodyPending(request, reply);
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      throw new HooklineError('HL_ERR_UNAVAILABLE', 'Too many uploads in flight; retry shortly', {
        details: { limit: this.#max, retryAfterSeconds: RETRY_AFTER_SECONDS },
      });
    }
    this.#gauge.set(++this.#inFlight);
    reply.raw.once('close', () => this.#gauge.set(--this.#inFlight));
  }
}
