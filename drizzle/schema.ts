import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Bytes, as node-postgres reads and writes them (a Buffer; sent in binary, nothing escapes it). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
/** A full-text search document (server/chats/queries/search.ts reads it; nothing writes it but Postgres). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
/**
 * The words of a chat search matches: its subject and its attendees' names. The `simple`
 * configuration (no stemming, no stop words) because chats and messages mix languages.
 */
export const CHAT_SEARCH_DOCUMENT = sql`to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(jsonb_path_query_array(attendees, '$[*].name')::text, ''))`;

/**
 * Every webhook body the provider sent, accepted or rejected, so that nothing acknowledged or
 * refused is ever silently dropped. `dedupe_key` is unique: a retry of an event we already stored
 * collides here and changes nothing else.
 */
export const inboundEvents = pgTable(
  'inbound_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    /** `message_received`, …, `account_status`; null when the body could not be understood. */
    event: text('event'),
    dedupeKey: text('dedupe_key'),
    accountId: text('account_id'),
    /** `accepted`, `rejected` or `ignored` (a source Hookline does not handle). */
    status: text('status').notNull(),
    /** The body exactly as received (it may not even be JSON). */
    rawBody: text('raw_body').notNull(),
    /** Why a body was rejected: the validation issues. */
    error: jsonb('error'),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('inbound_events_dedupe_key_idx').on(table.dedupeKey),
    // Operators look up rejected bodies by time (docs/ingest.md); accepted ones are reached by
    // their dedupe key. A partial index spares every accepted webhook one index insertion.
    index('inbound_events_rejected_received_idx')
      .on(table.receivedAt)
      .where(sql`${table.status} = 'rejected'`),
  ],
);

/** Provider accounts (one LinkedIn, WhatsApp, … login each) and their last known status. */
export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  provider: text('provider').notNull(),
  accountType: text('account_type'),
  /** The account's own provider user id: messages whose sender has it were sent by the account. */
  userId: text('user_id'),
  status: text('status'),
  statusReceivedAt: at('status_received_at'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const chats = pgTable(
  'chats',
  {
    accountId: text('account_id').notNull(),
    id: text('id').notNull(),
    providerChatId: text('provider_chat_id'),
    accountType: text('account_type'),
    subject: text('subject'),
    isGroup: boolean('is_group'),
    attendees: jsonb('attendees'),
    lastMessageAt: at('last_message_at'),
    lastMessageId: text('last_message_id'),
    lastMessagePreview: text('last_message_preview'),
    unreadCount: integer('unread_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    primaryKey({ columns: [table.accountId, table.id] }),
    index('chats_last_message_idx').on(table.lastMessageAt, table.accountId, table.id),
    index('chats_id_idx').on(table.id),
    index('chats_search_idx').using('gin', CHAT_SEARCH_DOCUMENT),
  ],
);

export const messages = pgTable(
  'messages',
  {
    accountId: text('account_id').notNull(),
    id: text('id').notNull(),
    chatId: text('chat_id').notNull(),
    providerMessageId: text('provider_message_id'),
    /**
     * `received` once the message itself arrived; `placeholder` while only later events about it
     * (edit, reaction, read, …) have arrived. See docs/ingest.md, "Out-of-order events".
     */
    state: text('state').notNull(),
    text: text('text'),
    sender: jsonb('sender'),
    isSender: boolean('is_sender'),
    attachments: jsonb('attachments').notNull().default(sql`'[]'::jsonb`),
    quoted: jsonb('quoted'),
    reactions: jsonb('reactions').notNull().default(sql`'[]'::jsonb`),
    /**
     * When each reactor's current reaction (or its removal) happened, by sender key: a reaction
     * older than the one it would replace is not applied (docs/ingest.md, "Later wins").
     */
    reactionTimes: jsonb('reaction_times').notNull().default(sql`'{}'::jsonb`),
    /** Provider fields we do not model, kept so nothing the provider said is lost. */
    extra: jsonb('extra'),
    sentAt: at('sent_at'),
    editedAt: at('edited_at'),
    deletedAt: at('deleted_at'),
    readAt: at('read_at'),
    deliveredAt: at('delivered_at'),
    /**
     * Set on a message sent through Hookline: its local id, which `id` equals until the provider's
     * message id is known (docs/sending.md).
     */
    localId: text('local_id'),
    /** `pending`, `sent`, `failed` or `unknown` for a message sent through Hookline; else null. */
    sendStatus: text('send_status'),
    /** The text's words for search (`simple` configuration: no stemming, any language), kept by Postgres. */
    searchVector: tsvector('search_vector').generatedAlwaysAs(
      sql`to_tsvector('simple'::regconfig, coalesce(text, ''))`,
    ),
    /** With `send_status` `failed`: the stable reason code (docs/sending.md, "Failure reasons"). */
    sendFailureReason: text('send_failure_reason'),
    /** With `send_status` `failed`: the human-readable why, beside the reason. */
    sendError: text('send_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    primaryKey({ columns: [table.accountId, table.id] }),
    index('messages_chat_sent_idx').on(table.accountId, table.chatId, table.sentAt, table.id),
    index('messages_search_idx').using('gin', table.searchVector),
    uniqueIndex('messages_local_id_idx').on(table.localId).where(sql`${table.localId} is not null`),
  ],
);

/**
 * Realtime sequence numbers are drawn only while holding the realtime advisory lock at the very
 * end of an ingest transaction, so `seq` order equals commit order (see docs/architecture.md).
 */
export const realtimeSeq = pgSequence('realtime_seq');

/** The outbox of envelopes for WebSocket clients, read by `seq`. */
export const realtimeEvents = pgTable(
  'realtime_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    accountId: text('account_id').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('realtime_events_account_seq_idx').on(table.accountId, table.seq),
    index('realtime_events_created_idx').on(table.createdAt),
  ],
);

/** Subscriber endpoints that receive signed outbound webhooks. */
export const endpoints = pgTable('endpoints', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  description: text('description'),
  /** Null means every event type. */
  eventTypes: text('event_types').array(),
  /** Null means every account. */
  accountIds: text('account_ids').array(),
  headers: jsonb('headers').notNull().default(sql`'{}'::jsonb`),
  /** The `whsec_` secret, AES-256-GCM encrypted with ENCRYPTION_KEY. */
  secretEncrypted: text('secret_encrypted').notNull(),
  previousSecretEncrypted: text('previous_secret_encrypted'),
  previousSecretExpiresAt: at('previous_secret_expires_at'),
  maxAttempts: integer('max_attempts').notNull(),
  rateLimitPerSecond: integer('rate_limit_per_second'),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  failingSince: at('failing_since'),
  /** `standard-webhooks` or `hmac-sha256-hex` (docs/webhooks.md, "Signature schemes"). */
  signatureScheme: text('signature_scheme').notNull().default('standard-webhooks'),
  /** The header carrying `sha256=<hex>` under `hmac-sha256-hex`; null under `standard-webhooks`. */
  signatureHeader: text('signature_header'),
  /** Seconds between attempts (the last repeats); null means OUTBOUND_RETRY_SCHEDULE. */
  retrySchedule: integer('retry_schedule').array(),
  /** Set while the endpoint is paused: its deliveries wait, unclaimed, until it is resumed. */
  pausedAt: at('paused_at'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * A row here pauses the whole outbound worker pool on every instance (`scope` is `all`): the
 * claim reads it, so no instance needs to be told.
 */
export const outboundPauses = pgTable('outbound_pauses', {
  scope: text('scope').primaryKey(),
  pausedAt: at('paused_at').notNull().defaultNow(),
});

/** One event owed to one endpoint. `webhook_id` stays the same on every retry. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    /** `pending`, `delivering`, `succeeded`, `failed` (a retry is scheduled) or `dead`. */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    leaseExpiresAt: at('lease_expires_at'),
    lastError: text('last_error'),
    lastStatusCode: integer('last_status_code'),
    deliveredAt: at('delivered_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('deliveries_endpoint_webhook_idx').on(table.endpointId, table.webhookId),
    index('deliveries_status_next_idx').on(table.status, table.nextAttemptAt),
    index('deliveries_endpoint_created_idx').on(table.endpointId, table.createdAt),
  ],
);

/** Every HTTP attempt of every delivery, for operators and the endpoint's own log. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: bigint('delivery_id', { mode: 'number' })
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    attemptedAt: at('attempted_at').notNull().defaultNow(),
    durationMs: integer('duration_ms').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    responseBodyExcerpt: text('response_body_excerpt'),
  },
  (table) => [index('delivery_attempts_delivery_idx').on(table.deliveryId, table.attemptedAt)],
);

/**
 * The send queue: one row per message a user sent through Hookline (docs/sending.md). Claimed
 * with `FOR UPDATE SKIP LOCKED` like deliveries; the claim records the attempt in the same
 * statement. `status`: `queued` (never written to the provider), `sending` (the attempt is
 * recorded and the request may have been written),
 * `sent`, `failed` (refused, not retried) or `unknown` (maybe sent: settled by the echo or a
 * lookup, never resent blindly).
 */
export const sends = pgTable(
  'sends',
  {
    localId: text('local_id').primaryKey(),
    accountId: text('account_id').notNull(),
    chatId: text('chat_id').notNull(),
    text: text('text').notNull(),
    quoteId: text('quote_id'),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When the worker may next claim it: a retry, a lease end, or the lookup of an unknown send. */
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    leaseExpiresAt: at('lease_expires_at'),
    /** Written before the request is: set means the provider may have the message. */
    attemptStartedAt: at('attempt_started_at'),
    providerMessageId: text('provider_message_id'),
    /** How it settled: `response`, `echo` or `lookup`. */
    settledBy: text('settled_by'),
    lastError: text('last_error'),
    lastStatusCode: integer('last_status_code'),
    /** Resends after a lookup found no copy of an ambiguous attempt (SEND_UNCONFIRMED_RESENDS bounds them). */
    unconfirmedResends: integer('unconfirmed_resends').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('sends_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`${table.status} in ('queued', 'sending', 'unknown')`),
    index('sends_open_chat_idx')
      .on(table.accountId, table.chatId, table.createdAt)
      .where(sql`${table.status} in ('sending', 'unknown')`),
    // SEND_MAX_PENDING_PER_ACCOUNT counts these.
    index('sends_open_account_idx')
      .on(table.accountId)
      .where(sql`${table.status} in ('queued', 'sending', 'unknown')`),
  ],
);

/** `Idempotency-Key` of send requests: the first answer, replayed for 24 hours. */
export const sendRequests = pgTable(
  'send_requests',
  {
    accountId: text('account_id').notNull(),
    key: text('key').notNull(),
    localId: text('local_id').notNull(),
    response: jsonb('response').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.accountId, table.key] })],
);

/**
 * Files uploaded with a send (docs/sending.md), in upload order. Kept only until the send settles:
 * deleted when it is `sent` or `failed` (and with its send row). The message's `attachments`
 * keeps their name, type and size.
 */
export const sendAttachments = pgTable(
  'send_attachments',
  {
    localId: text('local_id')
      .notNull()
      .references(() => sends.localId, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    filename: text('filename').notNull(),
    mimetype: text('mimetype').notNull(),
    size: integer('size').notNull(),
    content: bytea('content').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.localId, table.position] })],
);

/**
 * Catch-up sync state per provider account (docs/sync.md): the watermark (newest provider time up
 * to which a sync completed without a gap; webhooks never move it), the run in progress, and the
 * lease that lets one instance at a time sync the account.
 */
export const syncAccounts = pgTable('sync_accounts', {
  accountId: text('account_id').primaryKey(),
  watermark: at('watermark'),
  runId: text('run_id'),
  leaseOwner: text('lease_owner'),
  leaseUntil: at('lease_until'),
  updatedAt: updatedAt(),
});

/**
 * One sync of one account over one window, newest first: `cursor` is the provider's position after
 * the last committed page, so a run interrupted by a crash resumes there.
 */
export const syncRuns = pgTable(
  'sync_runs',
  {
    id: text('id').primaryKey(),
    /** Runs started by one request for every account share it (`POST /api/sync` without an account). */
    groupId: text('group_id'),
    accountId: text('account_id').notNull(),
    /** `running`, `done` or `failed`. */
    status: text('status').notNull(),
    trigger: text('trigger').notNull(),
    windowFrom: at('window_from').notNull(),
    windowTo: at('window_to').notNull(),
    cursor: text('cursor'),
    pages: integer('pages').notNull().default(0),
    messages: integer('messages').notNull().default(0),
    newMessages: integer('new_messages').notNull().default(0),
    duplicates: integer('duplicates').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    /** Listed items that could not be stored even once cleaned: kept as rejected bodies, skipped. */
    skipped: integer('skipped').notNull().default(0),
    oldestSeen: at('oldest_seen'),
    error: jsonb('error'),
    startedAt: createdAt(),
    updatedAt: updatedAt(),
    finishedAt: at('finished_at'),
  },
  (table) => [
    index('sync_runs_account_idx').on(table.accountId, table.startedAt),
    index('sync_runs_group_idx').on(table.groupId),
  ],
);

/**
 * Realtime sessions (docs/realtime.md, "Sessions"): every connection token carries the id of one
 * (`sid`), and a refreshed token never outlives it. Revoking one (`revoked_at`) makes all of its
 * tokens fail on every instance. `account_ids` null: every account (inbox login sessions).
 */
export const realtimeSessions = pgTable(
  'realtime_sessions',
  {
    id: text('id').primaryKey(),
    accountIds: text('account_ids').array(),
    scopes: text('scopes').array().notNull(),
    /** How it was opened: `api` (POST /api/realtime/tokens) or `login` (an inbox login code). */
    origin: text('origin').notNull(),
    createdAt: createdAt(),
    expiresAt: at('expires_at').notNull(),
    revokedAt: at('revoked_at'),
  },
  (table) => [index('realtime_sessions_expires_idx').on(table.expiresAt)],
);

/** Single-use inbox login codes (docs/security.md): only their SHA-256 is kept. */
export const loginCodes = pgTable('login_codes', {
  codeHash: text('code_hash').primaryKey(),
  createdAt: createdAt(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
});

/**
 * Send budgets (docs/sending.md, "Budgets"), one row per session or account: the theoretical
 * arrival time of the next send (GCRA). A row whose time has passed is as good as none.
 */
export const sendBudgets = pgTable('send_budgets', {
  key: text('key').primaryKey(),
  nextAt: at('next_at').notNull(),
});

/**
 * Chats to mark read at the provider (`PATCH /chats/{id}` setReadStatus), a durable queue like
 * `sends`: one row per chat, so marking a chat read again while it waits changes nothing but its
 * `requested_at`. The worker deletes the row once the provider accepted the call (or refused it
 * for good), unless it was requested again meanwhile.
 */
export const readMarks = pgTable(
  'read_marks',
  {
    accountId: text('account_id').notNull(),
    chatId: text('chat_id').notNull(),
    requestedAt: at('requested_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    /** When the worker may next claim it: a retry after a failure, or the end of a lease. */
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.accountId, table.chatId] }),
    index('read_marks_due_idx').on(table.nextAttemptAt),
  ],
);
