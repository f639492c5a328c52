import { z } from 'zod';
import { HooklineError } from '../errors.js';
import { containsNul } from '../shared/storable.js';

/**
 * Page cursors are opaque to clients: base64url JSON of the last row's sort key. A cursor that
 * does not decode to the expected shape is a client error, never a 500.
 */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes an {@link encodeCursor} cursor to `schema`'s shape: undefined without one, a 400 if malformed. */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position = schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    // Cursors are ours, so one holding U+0000 is forged; Postgres could not compare it anyway.
    if (containsNul(position)) throw new Error('forged cursor');
    return position;
  } catch {
    throw new HooklineError(
      'HL_ERR_INVALID_REQUEST',
      'Invalid cursor: pass back the nextCursor of the previous page',
    );
  }
}

/** Query of a list route: `limit` 1–100 (default 50), an opaque `cursor`, an optional `accountId`. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(1000).optional(),
  accountId: z.string().min(1).max(512).optional(),
});
