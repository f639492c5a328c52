import { z } from 'zod';

/**
 * Unipile webhook bodies as they really arrive. Payloads differ across providers and across
 * versions of Unipile's documentation, so these schemas accept every known variant, keep unknown
 * fields (`looseObject`), and reject only what cannot be understood: a body with no event, or a
 * messaging event without the ids that say what it is about.
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
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

/** A non-empty identifier; numbers are accepted and kept as their decimal string. */
const identifier = z.preprocess(
  (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value),
  z.string().trim().min(1).max(512),
);

const optionalText = z.string().nullish();

export const attendeeSchema = z.looseObject({
  attendee_id: identifier.nullish(),
  attendee_name: optionalText,
  attendee_provider_id: identifier.nullish(),
  attendee_profile_url: optionalText,
});

export const attachmentSchema = z.looseObject({
  id: identifier.nullish(),
  type: optionalText,
  mimetype: optionalText,
  url: optionalText,
  filename: optionalText,
  file_size: numberish.nullish(),
  size: z.looseObject({ height: numberish.nullish(), width: numberish.nullish() }).nullish(),
  sticker: booleanish.nullish(),
  unavailable: booleanish.nullish(),
});

/** Documented as one object, sent by real accounts as an array; also null or absent. */
export const attachmentsSchema = z
  .union([z.array(attachmentSchema).max(100), attachmentSchema])
  .nullish()
  .transform((value) => (value == null ? [] : Array.isArray(value) ? value : [value]));

/** A string, or an array of strings. */
const folderSchema = z
  .union([z.string(), z.array(z.string()).max(50)])
  .nullish()
  .transform((value) => (value == null ? [] : Array.isArray(value) ? value : [value]));

export const MESSAGING_EVENT_TYPES = [
  'message_received',
  'message_read',
  'message_reaction',
  'message_edited',
  'message_deleted',
  'message_delivered',
] as const;
export type MessagingEventType = (typeof MESSAGING_EVENT_TYPES)[number];

export const messagingWebhookSchema = z.looseObject({
  event: z.enum(MESSAGING_EVENT_TYPES),
  account_id: identifier,
  account_type: optionalText,
  account_info: z
    .looseObject({ type: optionalText, feature: optionalText, user_id: identifier.nullish() })
    .nullish(),
  chat_id: identifier,
  message_id: identifier,
  timestamp: optionalText,
  webhook_name: optionalText,
  message: optionalText,
  sender: attendeeSchema.nullish(),
  attendees: z.array(attendeeSchema).max(10_000).nullish(),
  attachments: attachmentsSchema,
  reaction: optionalText,
  reaction_sender: attendeeSchema.nullish(),
  provider_chat_id: identifier.nullish(),
  provider_message_id: identifier.nullish(),
  is_event: z.union([numberish, booleanish]).nullish(),
  quoted: z.looseObject({}).nullish(),
  chat_content_type: optionalText,
  message_type: optionalText,
  is_group: booleanish.nullish(),
  subject: optionalText,
  folder: folderSchema,
});
export type MessagingWebhook = z.output<typeof messagingWebhookSchema>;

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

export const accountStatusWebhookSchema = z.looseObject({
  AccountStatus: z.looseObject({
    account_id: identifier,
    account_type: optionalText,
    /** Known values are listed above; an unknown one is kept as given rather than refused. */
    message: z.string().trim().min(1).max(100),
  }),
});
export type AccountStatusWebhook = z.output<typeof accountStatusWebhookSchema>;

export type UnipileWebhook =
  | { kind: 'messaging'; payload: MessagingWebhook }
  | { kind: 'account_status'; payload: AccountStatusWebhook };

export type WebhookParseResult =
  | { ok: true; webhook: UnipileWebhook }
  | { ok: false; issues: z.core.$ZodIssue[] };

/** Classifies a parsed JSON body and validates it against the matching schema. */
export function parseUnipileWebhook(body: unknown): WebhookParseResult {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'AccountStatus' in body) {
    const result = accountStatusWebhookSchema.safeParse(body);
    return result.success
      ? { ok: true, webhook: { kind: 'account_status', payload: result.data } }
      : { ok: false, issues: result.error.issues };
  }
  const result = messagingWebhookSchema.safeParse(body);
  return result.success
    ? { ok: true, webhook: { kind: 'messaging', payload: result.data } }
    : { ok: false, issues: result.error.issues };
}
