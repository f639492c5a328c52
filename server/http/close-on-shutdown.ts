import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Lets graceful shutdown finish while keep-alive clients are connected. `close()` ends the
 * connections that are idle when it begins; a connection whose request is still running then
 * goes idle afterwards, and would hold the server open for fastify's keep-alive timeout (72 s),
 * past any shutdown deadline. So every response sent once shutdown has begun says
 * `Connection: close`, and Node ends its connection after writing it.
 */
export const closeOnShutdownPlugin = fp(
  async (app: FastifyInstance) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'hookline-close-on-shutdown' },
);
