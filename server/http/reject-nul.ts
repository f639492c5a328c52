import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HooklineError } from '../errors.js';
import { containsNul } from '../shared/storable.js';

/**
 * Refuses U+0000 anywhere in a request's path parameters, query or JSON body with
 * `400 HL_ERR_INVALID_REQUEST`: Postgres cannot store or even compare it, so it would otherwise
 * surface as a database error (500) in whichever query first met it. A string body is the ingest
 * route's raw webhook, which replaces U+0000 itself so the webhook is still stored (docs/ingest.md).
 */
export const rejectNulPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request: FastifyRequest) => {
      if (typeof request.body === 'string') return;
      const where = [
        ['params', request.params],
        ['query', request.query],
        ['body', request.body],
      ].find(([, value]) => containsNul(value));
      if (where) {
        throw new HooklineError('HL_ERR_INVALID_REQUEST', 'U+0000 (NUL) characters are not accepted', {
          details: { in: where[0] },
        });
      }
    });
  },
  { name: 'hookline-reject-nul' },
);
