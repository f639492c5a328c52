import { z } from 'zod';

/**
 * Shared pieces of the routes' `schema` options (see ./plugin.ts): the error shape, the
 * security requirements and answers that are text rather than JSON.
 */

/** Every 4xx and 5xx answer (server/http/error-handler.ts). */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('stable HL_ERR_* code: match on it'),
      message: z.string().describe('for humans; may change'),
      details: z.unknown().optional(),
    }),
  })
  .describe('An error');

/** `{ 400: errorResponse, 401: errorResponse, … }` for the statuses given. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorResponse> {
  return Object.fromEntries(statuses.map((status) => [status, errorResponse]));
}

type Security = { [scheme: string]: string[] }[];

/** The management API: `Authorization: Bearer <API_TOKEN>`. */
export const apiTokenSecurity: Security = [{ apiToken: [] }];

/** The read API: the API token, or a browser's connection token scoped to its accounts. */
export const readerSecurity: Security = [{ apiToken: [] }, { connectionToken: [] }];

/** The provider's webhook: its auth header carries INBOUND_SECRET (see OpenapiPluginOptions). */
export const providerWebhookSecurity: Security = [{ providerWebhookAuth: [] }];

/** A 200 answer that is text of the given content type, not JSON. */
export function textResponse(contentType: string, description: string) {
  return { description, content: { [contentType]: { schema: z.string() } } };
}
