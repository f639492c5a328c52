import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface FakeConnection {
  socket: WebSocket;
  url: URL;
  received: unknown[];
}

/**
 * A real WebSocket server on port 0 that speaks the gateway's protocol as the test scripts it:
 * records every connection's URL and frames, and answers pings unless told to stay silent.
 */
export async function startFakeRealtimeServer(
  options: { answerPings?: boolean; sendHello?: number | false } = {},
) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const connections: FakeConnection[] = [];
  server.on('connection', (socket, request) => {
    const connection: FakeConnection = { socket, url: new URL(request.url ?? '/', 'ws://x'), received: [] };
    connections.push(connection);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      connection.received.push(frame);
      if (frame.type === 'ping' && options.answerPings !== false)
        socket.send(JSON.stringify({ type: 'pong' }));
    });
    if (options.sendHello !== false)
      socket.send(JSON.stringify({ type: 'hello', seq: options.sendHello ?? 0 }));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws/messages`,
    connections,
    envelope: (seq: number, type = 'message:new') =>
      JSON.stringify({
        type,
        seq,
        ts: new Date().toISOString(),
        data: { accountId: 'a', chatId: 'c', messageId: `m${seq}` },
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
