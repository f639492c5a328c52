import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The longest a connection the gateway closes keeps reading what the client still sends. */
const LINGER_MS = 2000;
/** The most it reads (and discards) meanwhile. */
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Closes the connections the gateway ends after an answer (`Connection: close`: a body refused
 * unread, as too large or unauthenticated, or any answer once shutdown has begun) the way HTTP
 * servers do it safely, "lingering": the answer, then the gateway's end of the connection (FIN),
 * then whatever the client still sends is read and discarded until it closes its end, for at most
 * {@link LINGER_MS} and {@link LINGER_BYTES}. Destroying the socket at once, as Node does, makes
 * the kernel reset a connection that has unread data, and the reset can reach a client still
 * writing its body before it has read the answer: it then sees EPIPE or ECONNRESET instead of its
 * 401 or 413.
 */
export const lingeringClosePlugin = fp(
  async (app: FastifyInstance) => {
    // Node's HTTP server calls destroySoon after the last answer of a connection, and nowhere else.
    app.server.on('connection', (socket: Socket) => {
      socket.destroySoon = () => linger(socket);
    });
  },
  { name: 'hookline-lingering-close' },
);

function linger(socket: Socket): void {
  if (socket.writable) socket.end();
  if (socket.readableEnded || socket.destroyed) {
    socket.destroy();
    return;
  }
  let read = 0;
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, LINGER_MS);
  socket.once('end', close);
  socket.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_BYTES) close();
  });
  socket.resume();
}
