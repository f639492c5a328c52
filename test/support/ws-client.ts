import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { waitFor } from './wait.js';

/** A frame the server sent, parsed. */
export interface Received {
  type: string;
  seq?: number;
  reset?: boolean;
  ts?: string;
  data?: { accountId?: string; [key: string]: unknown };
}

/** A real ws client that records every frame and how the socket ended. */
export interface TestClient {
  readonly socket: WebSocket;
  readonly frames: Received[];
  /** Event envelopes only (not hello/pong). */
  events(): Received[];
  /** Resolves with the close code once the socket is closed. */
  readonly closed: Promise<number>;
  waitForEvents(count: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** The ws:// base URL of an app listening on port 0. */
export function wsBase(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the app is not listening');
  return `ws://127.0.0.1:${address.port}`;
}

export function messagesUrl(
  app: FastifyInstance,
  query: Record<string, string | number | undefined>,
): string {
  const url = new URL('/ws/messages', wsBase(app));
  for (const [name, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(name, String(value));
  return url.toString();
}

/** Opens a socket and resolves once the server's `hello` arrived. */
export async function connectClient(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  const socket = new WebSocket(url, options);
  const frames: Received[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Received));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`refused with HTTP ${response.statusCode}`)),
    );
  });
  const events = () => frames.filter((frame) => frame.type !== 'hello' && frame.type !== 'pong');
  await waitFor(() => frames.some((frame) => frame.type === 'hello'), 'hello');
  return {
    socket,
    frames,
    events,
    closed,
    waitForEvents: async (count) => {
      await waitFor(() => events().length >= count, `${count} events (have ${events().length})`);
      return events();
    },
    close: async () => {
      if (socket.readyState !== WebSocket.CLOSED) {
        socket.close();
        await closed;
      }
    },
  };
}

export interface Refusal {
  status: number;
  body: { error: { code: string; details?: { reason?: string } } };
}

/** Attempts an upgrade that the server must refuse; resolves with the HTTP status and JSON body. */
export function expectRefusal(url: string, options: WebSocket.ClientOptions = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', () => {});
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) }));
    });
  });
}
