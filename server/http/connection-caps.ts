import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';

/**
 * Bounds the TCP connections the gateway holds (docs/security.md, "Connection caps"): every
 * connection, idle keep-alive and WebSocket alike, costs a file descriptor and memory, and one
 * client could otherwise hold thousands until the process runs out of descriptors.
 *
 * - HTTP_MAX_CONNECTIONS: Node's `server.maxConnections`; a connection past it is closed at once.
 * - HTTP_MAX_CONNECTIONS_PER_ADDRESS: per peer address (the TCP peer, before TRUST_PROXY: behind
 *   a proxy every client shares the proxy's address, so raise it there); a connection past it is
 *   destroyed before a byte of it is read.
 *
 * Refused connections are counted in `hookline_http_connections_refused_total`.
 */
export const connectionCapsPlugin = fp(
  async (app: FastifyInstance) => {
    const { HTTP_MAX_CONNECTIONS: total, HTTP_MAX_CONNECTIONS_PER_ADDRESS: perAddress } = app.config;
    app.server.maxConnections = total;
    const refused = new Counter({
      name: 'hookline_http_connections_refused_total',
      help: 'TCP connections closed on arrival: HTTP_MAX_CONNECTIONS or HTTP_MAX_CONNECTIONS_PER_ADDRESS reached',
      registers: [app.metrics],
    });
    app.server.on('drop', () => refused.inc());
    const open = new Map<string, number>();
    app.server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const count = (open.get(address) ?? 0) + 1;
      if (count > perAddress) {
        refused.inc();
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    });
  },
  { name: 'hookline-connection-caps', dependencies: ['hookline-metrics'] },
);
