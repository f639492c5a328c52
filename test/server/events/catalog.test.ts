import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MessageRecord, MessageState } from '../../../server/db/messages.js';
import {
  deletedMessageData,
  EVENT_CATALOG,
  EVENT_TYPES,
  messageSentData,
  newMessageData,
  type OutboundType,
  updatedMessageData,
  webhookBody,
} from '../../../server/events/index.js';

/** The consumer guide shows one example per event type; it must be the catalog's, verbatim. */
describe('docs/webhooks.md and the event catalog', () => {
  const guide = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');

  it.each(EVENT_CATALOG.map((entry) => [entry.type, entry] as const))(
    'shows the catalog example of %s',
    (type, entry) => {
      const section = guide.indexOf(`#### \`${type}\``);
      expect(section, `a section for ${type}`).toBeGreaterThan(-1);
      const start = guide.indexOf('```json\n', section) + '```json\n'.length;
      const example = JSON.parse(guide.slice(start, guide.indexOf('\n```', start)));
      expect(example).toEqual(entry.example);
    },
  );
});

type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
};

/** The JSON Schema subset the catalog uses: type, const, enum, required, properties. */
function violations(value: unknown, schema: Schema, path: string): string[] {
  const found: string[] = [];
  if (schema.const !== undefined && value !== schema.const) found.push(`${path} is not ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) found.push(`${path} is not one of ${schema.enum}`);
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : Number.isInteger(value)
          ? 'integer'
          : typeof value;
  if (types.length > 0 && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) {
    found.push(`${path} is ${kind}, not ${types}`);
  }
  if (kind === 'object' && schema.properties) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) found.push(`${path}.${key} is missing`);
    for (const [key, child] of Object.entries(record)) {
      const property = schema.properties[key];
      if (!property) found.push(`${path}.${key} is not in the catalog`);
      else found.push(...violations(child, property, `${path}.${key}`));
    }
  }
  return found;
}

const at = new Date('2026-11-22T10:00:00.000Z');
const state: MessageState = {
  accountId: 'acc_1',
  id: 'msg_1',
  chatId: 'chat_1',
  text: 'hello',
  sender: { id: 'att_1', name: 'Ada', providerId: 'ACo1', profileUrl: null },
  isSender: false,
  attachments: [],
  reactions: [{ reaction: '👍', sender: null, senderKey: 'ACo1', at: at.toISOString() }],
  sentAt: at,
  editedAt: at,
  deletedAt: at,
  readAt: at,
  deliveredAt: null,
};
const sent = { ...state, isSender: true, localId: 'lm_1', sendStatus: 'sent' } as MessageRecord;

/** What the builders of server/events emit, for each outbound type they serve. */
const emitted: Array<[OutboundType, unknown]> = [
  ['message.received', newMessageData(state)],
  ['message.received', { ...newMessageData(state), origin: 'sync' }],
  ['message.updated', updatedMessageData(state, 'reaction')],
  ['message.updated', updatedMessageData(state, 'edited')],
  ['message.deleted', deletedMessageData(state)],
  ['message.sent', messageSentData({ ...sent, settledBy: 'echo' })],
  ['chat.read', { accountId: 'acc_1', chatId: 'chat_1', unreadCount: 0 }],
  ['account.status', { accountId: 'acc_1', accountType: 'LINKEDIN', status: 'OK' }],
];

describe('the event catalog against the builders of server/events', () => {
  const catalog = new Map(EVENT_CATALOG.map((entry) => [entry.type, entry]));

  it('describes every outbound type once', () => {
    expect(EVENT_CATALOG.map((entry) => entry.type)).toHaveLength(catalog.size);
    for (const type of Object.values(EVENT_TYPES)) expect(catalog.has(type), type).toBe(true);
  });

  it.each(EVENT_CATALOG.map((entry) => [entry.type, entry] as const))(
    'has an example of %s that its own schema accepts',
    (_type, entry) => {
      expect(violations(entry.example, entry.schema as Schema, 'body')).toEqual([]);
    },
  );

  it.each(emitted.map(([type, data], index) => [`${type} #${index}`, type, data] as const))(
    'accepts what the builders emit as %s',
    (_label, type, data) => {
      const body = webhookBody(type, data as never, at);
      expect(violations(body, catalog.get(type)!.schema as Schema, 'body')).toEqual([]);
    },
  );
});
