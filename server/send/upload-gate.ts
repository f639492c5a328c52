import type { FastifyReply, FastifyRequest } from 'fastify';
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
  #inFlight = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Uploads being read now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot for a multipart request, or throws `503 HL_ERR_UNAVAILABLE` with `Retry-After`. */
  admit(request: FastifyRequest, reply: FastifyReply): void {
    if (!request.isMultipart()) return;
    if (this.#inFlight >= this.#max) {
      closeIfBodyPending(request, reply);
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      throw new HooklineError('HL_ERR_UNAVAILABLE', 'Too many uploads in flight; retry shortly', {
        details: { limit: this.#max, retryAfterSeconds: RETRY_AFTER_SECONDS },
      });
    }
    this.#inFlight++;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      this.#inFlight--;
    });
  }
}
