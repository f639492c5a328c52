import WebSocket from 'ws';
import type { Expectation } from './tally.js';
import { errorCode } from './tally.js';
import type { Target } from './target.js';

/** A socket that was accepted, with everything it received and how it ended. */
export interface OpenSocket {
  socket: WebSocket;
  frames: { type: string; seq?: number; data?: { accountId?: string } }[];
  rawFrames: string[];
  closed: Promise<number>;
}

export type Connection = { open: OpenSocket } | { refused: { status: number; text: string } };

/** Opens `/ws/messages` with `query` and resolves once `hello` arrived, or with the HTTP refusal. */
export function connect(
  target: Target,
  query: string,
  headers: Record<string, string> = {},
): Promise<Connection> {
  const socket = new WebSocket(`${target.gateway.wsUrl}/ws/messages${query}`, { headers, maxPayload: 0 });
  const frames: OpenSocket['frames'] = [];
  const rawFrames: string[] = [];
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => reject(new Error(`no hello nor refusal for ${query.slice(0, 80)}`)),
      15_000,
    );
    socket.on('message', (data) => {
      const text = data.toString();
      rawFrames.push(text);
      frames.push(JSON.parse(text));
      if (frames.length === 1) {
        settled = true;
        clearTimeout(timer);
        resolve({ open: { socket, frames, rawFrames, closed } });
      }
    });
    socket.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk;
      });
      response.on('end', () => {
        settled = true;
        clearTimeout(timer);
        resolve({ refused: { status: response.statusCode ?? 0, text } });
        socket.terminate();
      });
    });
    // Aborting a refused handshake emits an error too; only an error before any answer counts.
    socket.on('error', (error) => {
      if (settled) return;
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Connects and records the outcome: accepted (status 101) or refused with the expected status. */
export async function attempt(
  target: Target,
  label: string,
  query: string,
  expected: Expectation,
  headers: Record<string, string> = {},
): Promise<OpenSocket | undefined> {
  const connection = await connect(target, query, headers);
  if ('open' in connection) {
    target.tally.record(label, 101, undefined, expected);
    return connection.open;
  }
  const { status, text } = connection.refused;
  target.tally.checkText(label, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  target.tally.record(label, status, errorCode(json), expected);
  return undefined;
}

/** Waits for the close code, failing after `timeoutMs` so a socket the server forgot cannot hang the run. */
export function closeCode(open: OpenSocket, timeoutMs = 15_000): Promise<number> {
  return Promise.race([
    open.closed,
    new Promise<number>((resolve) => setTimeout(() => resolve(-1), timeoutMs).unref()),
  ]);
}
