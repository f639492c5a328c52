/**
 * Wire types of the realtime protocol (docs/realtime.md). This package ships alone, so it keeps
 * its own copy of the server's `data` shapes (server/events/);
 * test/server/events/client-types.test.ts fails the typecheck when the two differ.
 */

/** A message's author. */
export interface Sender {
  id: string | null;
  name: string | null;
  providerId: string | null;
  profileUrl: string | null;
}

/** Status of a message sent through Hookline (docs/sending.md). */
export type SendStatus = 'pending' | 'sent' | 'failed' | 'unknown';

/** Why a send ended `failed`, a stable code beside the human `error` (docs/sending.md, "Failure reasons"). */
export type SendFailureReason =
  | 'refused'
  | 'rate_limited'
  | 'attempts_exhausted'
  | 'unconfirmed'
  | 'files_unavailable';

/** `data` of `message:new`: a message, as first stored. */
export interface NewMessageData {
  accountId: string;
  chatId: string;
  /** Null for a message sent through Hookline until the provider's id is known. */
  messageId: string | null;
  /** Set on a message sent through Hookline. */
  localId?: string;
  status?: SendStatus;
  text: string | null;
  sender: Sender | null;
  isSender: boolean;
  attachments: unknown[];
  sentAt: string | null;
  /** Present when an edit or deletion arrived before the message itself. */
  editedAt?: string | null;
  deletedAt?: string | null;
  /** `sync` on a message catch-up sync found (docs/sync.md); absent for webhooks. */
  origin?: 'sync';
}

/** `data` of `message:updated`: what changed, and the message's state after it. */
export interface UpdatedMessageData {
  accountId: string;
  chatId: string;
  messageId: string | null;
  change: 'edited' | 'reaction' | 'read' | 'delivered' | 'status';
  /** With `change: 'status'`: the sent message's local id, status, and the reason of a failure. */
  localId?: string;
  status?: SendStatus;
  error?: string;
  /** With `status: 'failed'`: why, as a stable code. */
  reason?: SendFailureReason;
  text: string | null;
  /** The message's state after the change; absent with `change: 'status'`. */
  reactions?: unknown[];
  editedAt?: string | null;
  readAt?: string | null;
  deliveredAt?: string | null;
}

/** `data` of `message:deleted`. */
export interface DeletedMessageData {
  accountId: string;
  chatId: string;
  messageId: string;
  deletedAt: string | null;
}

/** `data` of `chat:read`. */
export interface ChatReadData {
  accountId: string;
  chatId: string;
  unreadCount: number;
}

/** `data` of `account:status`. */
export interface AccountStatusData {
  accountId: string;
  accountType: string | null;
  status: string;
}

/** `data` by envelope type. */
export interface EnvelopeData {
  'message:new': NewMessageData;
  'message:updated': UpdatedMessageData;
  'message:deleted': DeletedMessageData;
  'chat:read': ChatReadData;
  'account:status': AccountStatusData;
}

/** An envelope `type`. */
export type EnvelopeType = keyof EnvelopeData;

/** One realtime envelope, as the socket delivers it. */
export interface Envelope<T extends EnvelopeType = EnvelopeType> {
  type: T;
  /** Increases in commit order; resume with `since=<seq>`. */
  seq: number;
  ts: string;
  data: EnvelopeData[T];
}

/** The client's connection state, as `status` events report it. */
export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'reconnecting'; attempt: number; delayMs: number }
  /** Closed for good: by `close()`, or `revoked` when the server closed with 4003 (session revoked). */
  | { state: 'closed'; reason?: 'revoked' };

/** Everything `client.on` can subscribe to. */
export type RealtimeEvents = { [K in EnvelopeType]: Envelope<K> } & {
  /** Every envelope, whatever its type. */
  event: Envelope;
  status: ConnectionStatus;
  /** The server's greeting on each connection, with its latest seq. */
  hello: { seq: number; reset: boolean };
  /** Events after your resume point are gone: refetch state through the REST API. */
  reset: { seq: number };
};
