import { z } from 'zod';
import { HooklineError } from '../errors.js';
import { isReserved } from './custom-headers.js';
import type { EndpointRow } from './queries/endpoints.js';
import { DEFAULT_HMAC_SIGNATURE_HEADER, type SignatureScheme } from './signing.js';

/** Longest wait an endpoint's retry schedule may ask for between two attempts: one day. */
export const MAX_RETRY_DELAY_SECONDS = 86_400;

/** Most entries in an endpoint's retry schedule (its last entry repeats up to `maxAttempts`). */
export const MAX_RETRY_SCHEDULE_ENTRIES = 20;

/** An endpoint's `retrySchedule`: whole seconds between attempts, 1 s to one day each. */
export const retryScheduleSeconds = z
  .array(z.number().int().min(1).max(MAX_RETRY_DELAY_SECONDS))
  .min(1)
  .max(MAX_RETRY_SCHEDULE_ENTRIES);

/** RFC 9110 token characters, as for custom headers. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The header an `hmac-sha256-hex` endpoint receives its signature in. */
export const signatureHeaderName = z
  .string()
  .min(1)
  .max(100)
  .regex(HEADER_NAME, { error: 'header names may contain only RFC 9110 token characters' })
  .refine((name) => !isReserved(name), {
    error: 'this header is set by Hookline and cannot carry the signature',
  });

/** The signature settings a create or update asks for. */
export interface SignatureSettingsInput {
  signatureScheme?: SignatureScheme | undefined;
  signatureHeader?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/**
 * The stored signature settings once `input` applies to `existing` (none when creating): the
 * header is kept only under `hmac-sha256-hex` (default `X-Hub-Signature-256`). Refuses a
 * `signatureHeader` under `standard-webhooks`, and a custom header of the same name as the
 * signature header, with HL_ERR_INVALID_REQUEST.
 */
export function resolveSignatureSettings(
  input: SignatureSettingsInput,
  existing?: Pick<EndpointRow, 'signatureScheme' | 'signatureHeader' | 'headers'>,
): { signatureScheme: SignatureScheme; signatureHeader: string | null } {
  const scheme =
    input.signatureScheme ??
    (existing?.signatureScheme as SignatureScheme | undefined) ??
    'standard-webhooks';
  if (scheme === 'standard-webhooks') {
    if (input.signatureHeader !== undefined) {
      throw invalid('signatureHeader applies only to signatureScheme "hmac-sha256-hex"', 'signatureHeader');
    }
    return { signatureScheme: scheme, signatureHeader: null };
  }
  const header = input.signatureHeader ?? existing?.signatureHeader ?? DEFAULT_HMAC_SIGNATURE_HEADER;
  const headers = input.headers ?? (existing?.headers as Record<string, string> | undefined) ?? {};
  if (Object.keys(headers).some((name) => name.toLowerCase() === header.toLowerCase())) {
    throw invalid(`the custom header ${header} would collide with the signature header`, 'headers');
  }
  return { signatureScheme: scheme, signatureHeader: header };
}

function invalid(message: string, field: string): HooklineError {
  return new HooklineError('HL_ERR_INVALID_REQUEST', message, { details: { field } });
}
