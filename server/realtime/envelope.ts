import type { RealtimeEventRow } from './queries/realtime-reads.js';

/** An event serialized once, then written to every socket that wants it. */
export interface PreparedEvent {
  seq: number;
  accountId: string;
  /** The envelope `{type, seq, ts, data}` as UTF-8 JSON (docs/realtime.md). */
  frame: Buffer;
  createdAt: Date;
}

/** Serializes an event row into its envelope frame, once for every socket. */
export function prepareEvent(row: RealtimeEventRow): PreparedEvent {
  const envelope = { type: row.type, seq: row.seq, ts: row.createdAt.toISOString(), data: row.data };
  return {
    seq: row.seq,
    accountId: row.accountId,
    frame: Buffer.from(JSON.stringify(envelope)),
    createdAt: row.createdAt,
  };
}

/** The first frame of every connection. `reset` means: events after your `since` are gone, refetch. */
export function helloFrame(seq: number, reset: boolean): string {
  return JSON.stringify(reset ? { type: 'hello', seq, reset: true } : { type: 'hello', seq });
}

/** The answer to a client's `{"type":"ping"}` (browsers cannot send protocol pings). */
export const PONG_FRAME = JSON.stringify({ type: 'pong' });
