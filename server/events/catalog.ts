import type { OutboundData } from './data.js';
import type { NewMessageData } from './message-new.js';
import type { OutboundType } from './names.js';

/**
 * The outbound event types, each with a JSON Schema of its `data` and an example body, served
 * by `GET /api/event-types` and documented in docs/webhooks.md. Schemas allow extra properties:
 * new fields may be added without a new version; existing ones never change meaning.
 *
 * Derived from names.ts and data.ts: the catalog is a record over every OutboundType, and each
 * example's `data` has that type's data.ts shape, so neither can be missing or drift in type;
 * test/server/events/catalog.test.ts checks what builders emit against the schemas.
 */

/** One catalog entry, as `GET /api/event-types` serves it. */
export interface EventTypeDescription<T extends OutboundType = OutboundType> {
  type: T;
  description: string;
  /** JSON Schema (draft 2020-12) of the whole body. */
  schema: Record<string, unknown>;
  example: { type: T; timestamp: string; data: OutboundData[T] };
}

const nullableString = { type: ['string', 'null'] };
const timestamp = { type: 'string', format: 'date-time' };
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' };

// Null when the provider names no author (and on messages sent through Hookline).
const sender = {
  type: ['object', 'null'],
  properties: {
    id: nullableString,
    name: nullableString,
    providerId: nullableString,
    profileUrl: nullableString,
  },
  additionalProperties: true,
};

function bodySchema(type: string, data: Record<string, unknown>): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['type', 'timestamp', 'data'],
    properties: { type: { const: type }, timestamp, data },
  };
}

const messageData = {
  type: 'object',
  required: ['accountId', 'chatId', 'messageId'],
  properties: {
    accountId: { type: 'string' },
    chatId: { type: 'string' },
    messageId: { type: 'string' },
    text: nullableString,
    sender,
    isSender: { type: ['boolean', 'null'] },
    attachments: { type: 'array', items: { type: 'object', additionalProperties: true } },
    sentAt: nullableTimestamp,
    // Present when an edit or deletion arrived before the message itself (docs/ingest.md).
    editedAt: nullableTimestamp,
    deletedAt: nullableTimestamp,
    origin: { const: 'sync' },
  },
  additionalProperties: true,
};

const exampleMessage: NewMessageData = {
  accountId: 'acc_9f2c',
  chatId: 'chat_51d0',
  messageId: 'msg_77a1',
  text: 'Hello from LinkedIn',
  sender: {
    id: 'att_3b1',
    name: 'Ada Lovelace',
    providerId: 'ACoAAB',
    profileUrl: 'https://www.linkedin.com/in/ada',
  },
  isSender: false,
  attachments: [],
  sentAt: '2026-11-22T10:00:00.000Z',
};

const at = '2026-11-22T10:00:00.000Z';

const CATALOG: { [T in OutboundType]: Omit<EventTypeDescription<T>, 'type'> } = {
  'message.received': {
    description: 'A new message arrived in a chat (sent by the account or by someone else).',
    schema: bodySchema('message.received', messageData),
    example: { type: 'message.received', timestamp: at, data: exampleMessage },
  },
  'message.updated': {
    description: 'A message changed: edited, reacted to, read or delivered. `change` says which.',
    schema: bodySchema('message.updated', {
      type: 'object',
      required: ['accountId', 'chatId', 'messageId', 'change'],
      properties: {
        accountId: { type: 'string' },
        chatId: { type: 'string' },
        messageId: { type: 'string' },
        change: { enum: ['edited', 'reaction', 'read', 'delivered'] },
        text: nullableString,
        /** One entry per reacting attendee; an empty `reaction` removes theirs. */
        reactions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              reaction: { type: 'string' },
              sender,
              senderKey: { type: 'string' },
              at: timestamp,
            },
            additionalProperties: true,
          },
        },
        editedAt: nullableTimestamp,
        readAt: nullableTimestamp,
        deliveredAt: nullableTimestamp,
      },
      additionalProperties: true,
    }),
    example: {
      type: 'message.updated',
      timestamp: at,
      data: {
        accountId: exampleMessage.accountId,
        chatId: exampleMessage.chatId,
        messageId: exampleMessage.messageId,
        change: 'reaction',
        text: exampleMessage.text,
        reactions: [{ reaction: '👍', sender: exampleMessage.sender, senderKey: 'ACoAAB', at }],
        editedAt: null,
        readAt: null,
        deliveredAt: null,
      },
    },
  },
  'message.deleted': {
    description: 'A message was deleted.',
    schema: bodySchema('message.deleted', {
      type: 'object',
      required: ['accountId', 'chatId', 'messageId'],
      properties: {
        accountId: { type: 'string' },
        chatId: { type: 'string' },
        messageId: { type: 'string' },
        deletedAt: timestamp,
      },
      additionalProperties: true,
    }),
    example: {
      type: 'message.deleted',
      timestamp: at,
      data: { accountId: 'acc_9f2c', chatId: 'chat_51d0', messageId: 'msg_77a1', deletedAt: at },
    },
  },
  'message.sent': {
    description:
      'A message sent through Hookline (POST /api/chats/:chatId/messages) is confirmed by the provider: ' +
      'its 201, its echo webhook or a lookup of the chat (`settledBy`). Sent once per message.',
    schema: bodySchema('message.sent', {
      type: 'object',
      required: ['accountId', 'chatId', 'messageId', 'localId', 'status'],
      // The message as `message.received` describes it, sent by the account, and how it settled.
      properties: {
        ...messageData.properties,
        localId: { type: 'string' },
        status: { const: 'sent' },
        isSender: { const: true },
        settledBy: { enum: ['response', 'echo', 'lookup'] },
      },
      additionalProperties: true,
    }),
    example: {
      type: 'message.sent',
      timestamp: at,
      data: {
        accountId: 'acc_9f2c',
        chatId: 'chat_51d0',
        messageId: 'msg_80b2',
        localId: 'lm_5f0c2a9e4b7d4c1a8e3f6b2d9c0a7e41',
        status: 'sent',
        text: 'On my way',
        sender: null,
        isSender: true,
        attachments: [],
        sentAt: at,
        settledBy: 'response',
      },
    },
  },
  'chat.read': {
    description: 'A chat was marked read.',
    schema: bodySchema('chat.read', {
      type: 'object',
      required: ['accountId', 'chatId', 'unreadCount'],
      properties: {
        accountId: { type: 'string' },
        chatId: { type: 'string' },
        unreadCount: { type: 'integer' },
      },
      additionalProperties: true,
    }),
    example: {
      type: 'chat.read',
      timestamp: at,
      data: { accountId: 'acc_9f2c', chatId: 'chat_51d0', unreadCount: 0 },
    },
  },
  'account.status': {
    description: 'A provider account changed status (connected, credentials needed, …).',
    schema: bodySchema('account.status', {
      type: 'object',
      required: ['accountId', 'status'],
      properties: { accountId: { type: 'string' }, status: { type: 'string' }, accountType: nullableString },
      additionalProperties: true,
    }),
    example: {
      type: 'account.status',
      timestamp: at,
      data: { accountId: 'acc_9f2c', status: 'OK', accountType: 'LINKEDIN' },
    },
  },
  'endpoint.test': {
    description: 'Sent by `POST /api/endpoints/:id/test` to check an endpoint; never by ingest.',
    schema: bodySchema('endpoint.test', {
      type: 'object',
      required: ['endpointId'],
      properties: { endpointId: { type: 'string' }, message: { type: 'string' } },
      additionalProperties: true,
    }),
    example: {
      type: 'endpoint.test',
      timestamp: at,
      data: { endpointId: 'ep_0mgx3k2a1b2c3d4e', message: 'Test event from Hookline' },
    },
  },
  'endpoint.disabled': {
    description:
      'Operational: Hookline disabled an endpoint (410 Gone, or failing for OUTBOUND_DISABLE_AFTER_MS). ' +
      'Sent only to endpoints that list this type, never to the endpoint disabled.',
    schema: bodySchema('endpoint.disabled', {
      type: 'object',
      required: ['endpointId', 'reason'],
      properties: { endpointId: { type: 'string' }, reason: { type: 'string' } },
      additionalProperties: true,
    }),
    example: {
      type: 'endpoint.disabled',
      timestamp: at,
      data: { endpointId: 'ep_0mgx3k2a1b2c3d4e', reason: 'the endpoint answered 410 Gone' },
    },
  },
  'delivery.exhausted': {
    description:
      'Operational: a delivery is dead (its attempts are spent, or its endpoint answered 410). ' +
      'Sent only to endpoints that list this type, never to the endpoint whose delivery it is.',
    schema: bodySchema('delivery.exhausted', {
      type: 'object',
      required: ['endpointId', 'deliveryId', 'webhookId', 'eventType', 'attempts'],
      properties: {
        endpointId: { type: 'string' },
        deliveryId: { type: 'integer' },
        webhookId: { type: 'string' },
        eventType: { type: 'string' },
        attempts: { type: 'integer' },
        lastStatusCode: { type: ['integer', 'null'] },
        lastError: nullableString,
      },
      additionalProperties: true,
    }),
    example: {
      type: 'delivery.exhausted',
      timestamp: at,
      data: {
        endpointId: 'ep_0mgx3k2a1b2c3d4e',
        deliveryId: 4211,
        webhookId: 'msg_8c1f0e4b9d2a4f6e8b7c5d3a1e2f4b6c',
        eventType: 'message.received',
        attempts: 8,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
      },
    },
  },
};

/** The catalog, in the order `GET /api/event-types` and docs/webhooks.md list it. */
export const EVENT_CATALOG: readonly EventTypeDescription[] = (Object.keys(CATALOG) as OutboundType[]).map(
  (type) => ({ type, ...CATALOG[type] }) as EventTypeDescription,
);

/** Every outbound type, for validating endpoint filters. */
export const EVENT_TYPE_NAMES: readonly OutboundType[] = EVENT_CATALOG.map((entry) => entry.type);
