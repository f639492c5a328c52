import type { Secrets } from '../../server/secrets.js';

/** Fixed secrets of the benchmark's Hookline server; the parent mints tokens with the same key. */
export const BENCH_SECRETS: Secrets = {
  inboundSecret: 'bench-inbound-secret-0123456789',
  apiToken: 'bench-api-token-0123456789',
  realtimeJwtSecret: 'bench-realtime-jwt-secret-0123456789abcdef',
  encryptionKey: Buffer.alloc(32, 9),
};

/**
 * `memory`: the server collects garbage until its heap stops shrinking, then reports its RSS and
 * the V8 heap in use (and writes a heap snapshot to `snapshot` when given). `publish`: one event.
 */
export type BenchCommand =
  | { type: 'memory'; snapshot?: string }
  | { type: 'publish'; accountId: string; sentAt: number };

export type BenchReply =
  | { type: 'ready'; port: number }
  | { type: 'memory'; rss: number; heapUsed: number }
  | { type: 'error'; message: string };

/** A `message:new` body of realistic size; `text` carries the send time for latency. */
export function benchEnvelopeData(accountId: string, sentAt: number) {
  return {
    accountId,
    chatId: `chat-${accountId}`,
    messageId: `msg-${sentAt}-${Math.random().toString(36).slice(2)}`,
    text: String(sentAt),
    sender: {
      id: 'att-1',
      name: 'Ada Lovelace',
      providerId: 'prov-ada',
      profileUrl: 'https://example.com/ada',
    },
    isSender: false,
    attachments: [],
    sentAt: new Date(sentAt).toISOString(),
  };
}
