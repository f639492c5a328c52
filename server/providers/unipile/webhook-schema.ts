import { z } from 'zod';
import { MESSAGE_EVENT_TYPES } from '../events.js';

/**
 * Unipile webhook bodies as they really arrive. Payloads differ across providers and across
 * versions of Unipile's documentation, so only what Hookline must have is required (`event`,
 * `account_id`, `chat_id`, `message_id`, or the `AccountStatus` object). Every optional field is
 * read when it has a known shape and otherwise ignored (`tolerant`): it stays in the raw body, and
 * a message is never lost because of one of them. Unknown fields are kept (`looseObject`).
 */

/** Booleans arrive as booleans, 0/1, or the strings "true"/"false"/"0"/"1". */
export const booleanish = z.union([
  z.boolean(),
  z.literal(0).transform(() => false),
  z.literal(1).transform(() => true),
  z
    .enum(['true', 'false', '0', '1', 'TRUE', 'FALSE', 'True', 'False'])
    .transform((value) => value.toLowerCase() === 'true' || value === '1'),
]);

/** Numbers arrive as numbers or as numeric strings ("150"). */
export const numberish = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

/** A non-empty identifier; numbers are accepted and kept as their decimal string. */
const identifier = z.preprocess(
  (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value),
  z.string().trim().min(1).max(512),
);

/**
 * An optional field: its value when it has the expected shape, else null. What was sent is still
 * in the stored raw body.
 */
function tolerant<T extends z.ZodType>(schema: T) {
  return schema.nullish().catch(null);
}

/** Text; a number is kept as its decimal string. */
const text = z.preprocess(
  (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value),
  z.string(),
);
const optionalText = tolerant(text);

/** A chat attendee or sender in a messaging webhook; every field optional (`tolerant`). */
export const attendeeSchema = z.looseObject({
  attendee_id: tolerant(identifier),
  attendee_name: optionalText,
  attendee_provider_id: tolerant(identifier),
  attendee_profile_url: optionalText,
});

/**
 * Both spellings seen in integrations are read (`mimetype`/`mime_type`, `filename`/`file_name`).
 * `size` is the `{ width, height }` object of the documentation, or a bare number of bytes.
 */
export const attachmentSchema = z.looseObject({
  id: tolerant(identifier),
  type: optionalText,
  mimetype: optionalText,
  mime_type: optionalText,
  url: optionalText,
  filename: optionalText,
  file_name: optionalText,
  file_size: tolerant(numberish),
  size: tolerant(
    z.union([numberish, z.looseObject({ height: tolerant(numberish), width: tolerant(numberish) })]),
  ),
  sticker: tolerant(booleanish),
  unavailable: tolerant(booleanish),
});
/** An attachment as the webhook sent it, fields it could not read set to null. */
export type RawAttachment = z.output<typeof attachmentSchema>;

/**
 * Documented as one object, sent by real accounts as an array; also null or absent. An element
 * that is not an object is skipped.
 */
export const attachmentsSchema = z
  .union([z.array(attachmentSchema.nullable().catch(null)).max(100), attachmentSchema])
  .nullish()
  .catch(null)
  .transform((value): RawAttachment[] =>
    value == null ? [] : Array.isArray(value) ? value.filter((item) => item !== null) : [value],
  );

/** A string, or an array of strings. */
const folderSchema = z
  .union([z.string(), z.array(z.string()).max(50)])
  .nullish()
  .catch(null)
  .transform((value) => (value == null ? [] : Array.isArray(value) ? value : [value]));

/**
 * The messaging webhook events Hookline stores; any other `event` is ignored. Unipile names them
 * as Hookline's neutral events are named, so the one list serves both.
 */
const MESSAGING_EVENTS: ReadonlySet<unknown> = new Set(MESSAGE_EVENT_TYPES);

/** A messaging webhook body: `event`, `account_id`, `chat_id`, `message_id` required, the rest tolerant. */
export const messagingWebhookSchema = z.looseObject({
  event: z.enum(MESSAGE_EVENT_TYPES),
  account_id: identifier,
  account_type: optionalText,
  account_info: tolerant(
    z.looseObject({
      type: optionalText,
      feature: optionalText,
      user_id: tolerant(identifier),
      phone_number: optionalText,
    }),
  ),
  chat_id: identifier,
  message_id: identifier,
  /**
   * ISO 8601 as documented; anything else is kept for the dedupe identity only (see normalize).
   * Optional: real `message_received` payloads without one exist; the receive time is used then.
   */
  timestamp: z.unknown().optional(),
  webhook_name: optionalText,
  message: optionalText,
  sender: tolerant(attendeeSchema),
  attendees: tolerant(z.array(attendeeSchema.nullable().catch(null)).max(10_000)),
  attachments: attachmentsSchema,
  reaction: optionalText,
  reaction_sender: tolerant(attendeeSchema),
  provider_chat_id: tolerant(identifier),
  provider_message_id: tolerant(identifier),
  is_sender: tolerant(booleanish),
  is_event: tolerant(z.union([numberish, booleanish])),
  quoted: tolerant(z.looseObject({})),
  chat_content_type: optionalText,
  message_type: optionalText,
  is_group: tolerant(booleanish),
  subject: optionalText,
  folder: folderSchema,
});
/** A messaging webhook as parsed. */
export type MessagingWebhook = z.output<typeof messagingWebhookSchema>;

/** The account status messages Unipile documents; an unknown one is still accepted. */
export const ACCOUNT_STATUS_MESSAGES = [
  'OK',
  'ERROR',
  'STOPPED',
  'CREDENTIALS',
  'CONNECTING',
  'DELETED',
  'CREATION_SUCCESS',
  'RECONNECTED',
  'SYNC_SUCCESS',
] as const;

/** An account status webhook body: `AccountStatus` with the account and its status message. */
export const accountStatusWebhookSchema = z.looseObject({
  AccountStatus: z.looseObject({
    account_id: identifier,
    account_type: optionalText,
    /** Known values are listed above; an unknown one is kept as given rather than refused. */
    message: z.string().trim().min(1).max(100),
  }),
});
/** An account status webhook as parsed. */
export type AccountStatusWebhook = z.output<typeof accountStatusWebhookSchema>;

/** A body from a Unipile source Hookline does not handle (email, users, hosted-auth callbacks…). */
export interface IgnoredWebhook {
  /** The body's `event` when it is a plain name, `other` for any other event, `none` without one. */
  source: string;
}

/** A webhook body classified by {@link parseUnipileWebhook}. */
export type UnipileWebhook =
  | { kind: 'messaging'; payload: MessagingWebhook }
  | { kind: 'account_status'; payload: AccountStatusWebhook }
  | { kind: 'ignored'; payload: IgnoredWebhook };

/** The outcome of {@link parseUnipileWebhook}: a classified webhook, or why the body was refused. */
export type WebhookParseResult =
  | { ok: true; webhook: UnipileWebhook }
  | { ok: false; issues: z.core.$ZodIssue[] };

const PLAIN_EVENT_NAME = /^[A-Za-z][\w.:-]{0,63}$/;

/** The source label of a body Hookline does not handle, bounded for logs and metric labels. */
function ignoredSource(event: unknown): string {
  if (event === undefined || event === null) return 'none';
  return typeof event === 'string' && PLAIN_EVENT_NAME.test(event) ? event : 'other';
}

const notAnObject: z.core.$ZodIssue[] = [
  { code: 'invalid_type', expected: 'object', path: [], message: 'Expected a JSON object', input: undefined },
];

/**
 * Classifies a parsed JSON body and validates it against the matching schema: `AccountStatus`
 * makes a status, one of the six messaging events a messaging webhook (refused when it lacks what
 * is required), and any other object comes from a source Hookline does not handle. A body that
 * is not an object is refused.
 */
export function parseUnipileWebhook(body: unknown): WebhookParseResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, issues: notAnObject };
  if ('AccountStatus' in body) {
    const result = accountStatusWebhookSchema.safeParse(body);
    return result.success
      ? { ok: true, webhook: { kind: 'account_status', payload: result.data } }
      : { ok: false, issues: result.error.issues };
  }
  const event = (body as { event?: unknown }).event;
  if (!MESSAGING_EVENTS.has(event)) {
    return { ok: true, webhook: { kind: 'ignored', payload: { source: ignoredSource(event) } } };
  }
  const result = messagingWebhookSchema.safeParse(body);
  return result.success
    ? { ok: true, webhook: { kind: 'messaging', payload: result.data } }
    : { ok: false, issues: result.error.issues };
}
