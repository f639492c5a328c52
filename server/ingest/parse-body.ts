import type { z } from 'zod';
import type { ProviderWebhook } from '../providers/webhook.js';
import { storableJson, storableText } from '../shared/storable.js';
import { messageDedupeKey } from './dedupe.js';
import type { IngestItem } from './items.js';

/** Deeper JSON than this cannot be a real webhook, and Postgres jsonb would refuse it anyway. */
export const MAX_JSON_DEPTH = 32;

const NUL_CHARACTER = String.fromCharCode(0);
const NUL = new RegExp(NUL_CHARACTER, 'g');

/** Postgres text and jsonb cannot hold U+0000: it is replaced, so such bodies are still stored. */
function withoutNul(raw: string): string {
  return raw.includes(NUL_CHARACTER) ? raw.replace(NUL, '\uFFFD') : raw;
}

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'not JSON' };
  }
}

function issuesFor(issues: z.core.$ZodIssue[]) {
  return issues
    .slice(0, 20)
    .map((issue) => ({ path: issue.path.map(String), code: issue.code, message: issue.message }));
}

/**
 * Turns a raw webhook body into an item for the batcher: accepted with its normalised event and
 * dedupe key, ignored (a source Hookline does not handle) with that source, or rejected with the
 * reason. Ignored and rejected bodies are stored too, never dropped.
 */
export function parseWebhookBody(rawBody: string, webhook: ProviderWebhook): IngestItem {
  const stored = withoutNul(rawBody);
  const json = parseJson(rawBody);
  if (!json.ok) {
    return {
      outcome: 'rejected',
      rawBody: stored,
      eventName: null,
      accountId: null,
      // The parser's message quotes the body, which may hold U+0000.
      error: { code: 'HL_ERR_INVALID_JSON', reason: storableText(json.reason) },
    };
  }
  if (depthExceeds(json.value, MAX_JSON_DEPTH)) {
    return {
      outcome: 'rejected',
      rawBody: stored,
      ...webhook.labels(json.value),
      error: { code: 'HL_ERR_INVALID_PAYLOAD', reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
    };
  }
  // Only escapes (`\u…`) can spell U+0000 or a lone surrogate: text decoded from UTF-8 has neither.
  const value = rawBody.includes('\\u') ? storableJson(json.value) : json.value;
  const parsed = webhook.parse(value);
  if (parsed.kind === 'invalid') {
    return {
      outcome: 'rejected',
      rawBody: stored,
      ...webhook.labels(value),
      error: { code: 'HL_ERR_INVALID_PAYLOAD', issues: issuesFor(parsed.issues) },
    };
  }
  if (parsed.kind === 'ignored') {
    return { outcome: 'ignored', rawBody: stored, ...webhook.labels(value), source: parsed.source };
  }
  const event = parsed.event;
  return {
    outcome: 'accepted',
    rawBody: stored,
    event,
    dedupeKey: event.kind === 'message' ? messageDedupeKey(event) : null,
  };
}
