import { WebSocket } from 'ws';
import {
  createRealtimeClient,
  type RealtimeClient,
  type RealtimeClientOptions,
} from '../../../client/realtime.js';
import { apiHeaders } from './gateway-process.js';

/** One envelope frame as the server sent it, before the client library's own dedupe. */
export interface SeenFrame {
  seq: number;
  type: string;
  messageId?: string;
}

export interface ObservedClient {
  readonly client: RealtimeClient;
  /** Every envelope frame received on any of its connections, in order, duplicates included. */
  readonly raw: SeenFrame[];
  /** Envelopes the library handed to the app (after its dedupe by seq). */
  readonly delivered: SeenFrame[];
  /** `hello` frames: one per connection. */
  readonly hellos: number[];
}

/**
 * The project's own client library in Node over `ws`, with a WebSocket that records every frame
 * the server sent: the library drops a seq it already saw, so only the raw frames can show
 * whether the server itself sent anything twice.
 */
export function observedClient(options: Pick<RealtimeClientOptions, 'url' | 'getToken'>): ObservedClient {
  const raw: SeenFrame[] = [];
  const delivered: SeenFrame[] = [];
  const hellos: number[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (data) => {
        const frame = JSON.parse(String(data)) as {
          type: string;
          seq?: number;
          data?: { messageId?: string };
        };
        if (frame.type === 'hello' && typeof frame.seq === 'number') hellos.push(frame.seq);
        else if (typeof frame.seq === 'number') raw.push(toSeen(frame as Parameters<typeof toSeen>[0]));
      });
    }
  }
  const client = createRealtimeClient({
    ...options,
    WebSocket: RecordingWebSocket as unknown as RealtimeClientOptions['WebSocket'],
    // Fail over quickly: the scenario measures completeness, not how patient a browser is.
    backoff: { minDelayMs: 100, maxDelayMs: 1000 },
  });
  client.on('event', (envelope) => delivered.push(toSeen(envelope as Parameters<typeof toSeen>[0])));
  return { client, raw, delivered, hellos };
}

function toSeen(frame: { type: string; seq: number; data?: { messageId?: string } }): SeenFrame {
  return {
    seq: frame.seq,
    type: frame.type,
    ...(frame.data?.messageId ? { messageId: frame.data.messageId } : {}),
  };
}

/** Seqs that occur more than once in `frames`. */
export function repeatedSeqs(frames: SeenFrame[]): number[] {
  const seen = new Set<number>();
  const repeated: number[] = [];
  for (const frame of frames) {
    if (seen.has(frame.seq)) repeated.push(frame.seq);
    seen.add(frame.seq);
  }
  return repeated;
}

/**
 * Mints a connection token for `accountIds` through a gateway's API, as a host app's backend does
 * (the gateway's default scopes unless `scopes` are given).
 */
export async function mintToken(
  gatewayUrl: string,
  accountIds: string[],
  scopes?: string[],
): Promise<string> {
  const response = await fetch(`${gatewayUrl}/api/realtime/tokens`, {
    method: 'POST',
    headers: apiHeaders,
    body: JSON.stringify({ accountIds, scopes }),
  });
  if (response.status !== 200) throw new Error(`token minting: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
