import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** WebSocket opcodes a hostile client sends. */
export const OPCODE = { text: 0x1, ping: 0x9 } as const;

/**
 * `count` masked client frames (RFC 6455 5.2) of one opcode and payload, back to back in one
 * buffer: a flooder writes thousands of frames in one `write`.
 */
export function maskedFrames(opcode: number, payload: string, count: number): Buffer {
  const data = Buffer.from(payload);
  if (data.length > 125) throw new Error('only short payloads (7-bit length) are supported');
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + data.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | data.length;
  mask.copy(frame, 2);
  for (let index = 0; index < data.length; index++)
    frame[6 + index] = (data[index] ?? 0) ^ (mask[index % 4] ?? 0);
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

/**
 * Opens a WebSocket with a hand-written handshake and resolves once the server answered 101,
 * with the socket paused: from then on the client never reads what the server sends, so the
 * server's answers pile up in the kernels' buffers and then in the server's own.
 */
export function openNonReadingWebSocket(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** A connection whose request stalls: what it was sent, and how it ended. */
export interface StalledRequest {
  socket: Socket;
  /** Everything the server answered (a 408, or nothing when it only closed). */
  answer(): string;
  /** Resolves when the server (or anyone) closed the connection. */
  closed: Promise<void>;
}

/**
 * Sends `head` (request line and headers) and the first `sentBytes` of a body that announces more,
 * then nothing: the request never completes. The server's answer is read, so its timeout response
 * arrives intact.
 */
export function openStalledRequest(port: number, head: string, sentBytes: number): Promise<StalledRequest> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    const closed = new Promise<void>((settle) => socket.once('close', () => settle()));
    socket.once('connect', () => {
      socket.off('error', reject);
      // A reset after the server's answer is how a timed-out connection may end: not an error here.
      socket.on('error', () => {});
      socket.write(head + 'x'.repeat(sentBytes), () => resolve({ socket, answer: () => answer, closed }));
    });
    socket.once('error', reject);
  });
}
