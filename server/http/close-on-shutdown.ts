import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Lets graceful shutdown finish within SHUTDOWN_TIMEOUT_MS whatever the clients do.
 *
 * - `close()` ends the connections that are idle when it begins; a connection whose request is
 *   still running then goes idle afterwards, and would hold the server open for the keep-alive
 *   timeout, past any shutdown deadline. So every response sent once shutdown has begun says
 *   `Connection: close`, and Node ends its connection after writing it.
 * - A connection that never goes idle (a request body or headers that stall, a WebSocket whose
 *   client does not finish the closing handshake) would hold the server open until the forced
 *   exit. So half way through the budget every connection still open is destroyed: by then every
 *   request that was making progress has been answered, and the other half of the budget is left
 *   for the database and the workers to close.
 */
export const closeOnShutdownPlugin = fp(
  async (app: FastifyInstance) => {
    let closing = false;
    const connections = new Set<Socket>();
    // One listener for every connection: a closure per connection would stay alive as long as
    // its socket, and a WebSocket's lasts for hours (docs/performance.md).
    const forget = function (this: Socket) {
      connections.delete(this);
    };
    app.server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.on('close', forget);
    });
    let drainTimer: NodeJS.Timeout | undefined;
    app.addHook('preClose', async () => {
      closing = true;
      drainTimer = setTimeout(() => {
        if (connections.size > 0) {
          app.log.info({ connections: connections.size }, 'shutdown: closing connections still open');
        }
        for (const socket of connections) socket.destroy();
      }, app.config.SHUTDOWN_TIMEOUT_MS / 2);
      drainTimer.unref();
    });
    app.addHook('onClose', async () => clearTimeout(drainTimer));
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'hookline-close-on-shutdown' },
);
