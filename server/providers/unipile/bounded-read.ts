import type { Readable } from 'node:stream';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { HooklineError } from '../../errors.js';

/** Largest provider answer read by default (UNIPILE_MAX_RESPONSE_BYTES): 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Stable reasons a provider read ends that the provider's status alone does not say. */
export type ProviderReadReason = 'response_too_large' | 'cursor_cycle' | 'too_many_pages';

/** A provider answer longer than the cap: abandoned where it crossed it, never buffered whole. */
export class ResponseTooLargeError extends Error {
  readonly reason = 'response_too_large';

  constructor(readonly maxBytes: number) {
    super(`answer longer than ${maxBytes} bytes (UNIPILE_MAX_RESPONSE_BYTES): abandoned`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * Reads an answer's body as UTF-8 text while it streams, keeping at most `maxBytes`: past them
 * the body is destroyed (its connection closed) and {@link ResponseTooLargeError} thrown, so a
 * provider answering 400 MB costs `maxBytes` of memory, not 400 MB. `onTooLarge` counts it.
 */
export async function readBoundedText(
  body: Readable,
  maxBytes: number,
  onTooLarge?: () => void,
): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > maxBytes) {
      body.destroy();
      onTooLarge?.();
      throw new ResponseTooLargeError(maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, length).toString('utf8');
}

/**
 * The counter of provider answers abandoned for their size, shared by every Unipile client of one
 * app: created by the first plugin that asks, found in the registry by the others.
 */
export function responsesTooLargeCounter(registry: Registry): Counter {
  const name = 'hookline_provider_responses_too_large_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({
    name,
    help: 'Provider answers abandoned because they were longer than UNIPILE_MAX_RESPONSE_BYTES.',
    registers: [registry],
  });
}

/**
 * Follows a paged provider listing, bounded: at most `maxPages` pages, and a cursor already seen
 * in this listing (a provider cycling a → b → a) ends it. Either way `fail` gives the error thrown
 * (`cursor_cycle` or `too_many_pages`).
 */
export async function readPages<T>(
  fetchPage: (cursor: string | null) => Promise<{ items: T[]; cursor: string | null }>,
  maxPages: number,
  fail: (reason: ProviderReadReason) => Error,
): Promise<T[]> {
  const all: T[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let pages = 0; ; ) {
    const page = await fetchPage(cursor);
    pages++;
    all.push(...page.items);
    cursor = page.cursor;
    if (cursor === null) return all;
    if (seen.has(cursor)) throw fail('cursor_cycle');
    if (pages >= maxPages) throw fail('too_many_pages');
    seen.add(cursor);
  }
}

/**
 * A listing the provider would not let end: it cycled its cursors, or went past the pages Hookline
 * reads. An `HL_ERR_PROVIDER` whose `details.reason` says which (docs/sync.md).
 */
export function pagingError(operation: string, reason: ProviderReadReason): HooklineError {
  const what = reason === 'cursor_cycle' ? 'repeated a cursor' : 'listed more pages than Hookline reads';
  return new HooklineError('HL_ERR_PROVIDER', `Unipile ${operation} ${what}`, {
    details: { operation, reason },
  });
}
