import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { seededRandom } from './cast.js';
import { createFakeChatReads, type FakeChatReads } from './chat-reads.js';
import { type DeliveryOptions, type DeliveryResult, deliverWithRetries } from './delivery.js';
import { createFakeFiles, type FakeFiles } from './files.js';
import { createFakeMisbehaviour, type FakeMisbehaviour } from './misbehave.js';
import {
  type MessagePayloadOptions,
  messageReceived,
  type UnipileAccountStatusPayload,
  type UnipileMessagingPayload,
} from './payloads.js';
import { FakeRestHistory, restHistoryRoutes } from './rest-history.js';
import { type TrafficKind, TrafficScenario } from './scenario.js';
import { createFakeSends, type FakeSends } from './sends.js';

/**
 * A fake Unipile API v1, for tests and local development: `POST/GET/DELETE /api/v1/webhooks`
 * with `X-API-KEY` auth, cursor pagination and problem bodies, plus delivery of webhook payloads
 * to every enabled `request_url` with the registered headers (listed by key only). Control
 * endpoints under `/_fake/` inject failures and latency, disable webhooks and make it send messages
 * (one, or a stream of realistic conversations: `/_fake/traffic`).
 */
export interface FakeUnipileOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The key `X-API-KEY` must carry. Default `fake-unipile-key`. */
  apiKey?: string;
  /** Largest page `GET /webhooks` answers, whatever `limit` asks. Default 100. */
  pageSize?: number;
  /** Delay before every API answer. Default 0. */
  latencyMs?: number;
  /** The next `count` API calls answer `status` with a problem body. Default none. */
  failures?: { count: number; status: number };
  /** How deliveries are retried. Default: as Unipile (30 s timeout, five retries). */
  delivery?: DeliveryOptions;
  /**
   * Whether `GET /webhooks` shows header values. Default false: keys only, as Hookline must not
   * rely on the provider returning them.
   */
  listHeaderValues?: boolean;
}

/** A webhook registered on the fake, in the shape `GET /webhooks` answers. */
export interface FakeWebhook {
  id: string;
  name: string;
  source: string;
  request_url: string;
  format: string;
  headers: { key: string; value: string }[];
  events: string[];
  account_ids: string[];
  enabled: boolean;
  created_at: string;
}

/** Every create and delete, in order: tests assert ordering (a replacement before a deletion). */
export interface FakeOperation {
  seq: number;
  op: 'create' | 'delete';
  id: string;
  name: string;
  requestUrl: string;
}

/** A delivery of a webhook body to one registered webhook. */
export interface FakeDelivery extends DeliveryResult {
  webhookId: string;
}

/** What the fake has seen and holds, for tests to assert on. */
export interface FakeUnipileState {
  /** Live webhooks, in creation order. */
  readonly webhooks: FakeWebhook[];
  /** Every webhook create and delete, in order. */
  readonly operations: FakeOperation[];
  /** API calls received (method and path), for counting pages. */
  readonly requests: { method: string; path: string }[];
}

/** A running fake Unipile: its URL and key, and the controls tests steer it with. */
export interface FakeUnipile {
  /** Base URL, e.g. `http://127.0.0.1:4010`: what `UNIPILE_DSN` should be. */
  readonly url: string;
  readonly apiKey: string;
  readonly state: FakeUnipileState;
  /** Adds a webhook directly, as if created in the dashboard (not logged as an operation). */
  addWebhook(input: Partial<FakeWebhook> & { request_url: string }): FakeWebhook;
  /** Disables a webhook, as the provider does after failed deliveries: false for an unknown id. */
  disableWebhook(id: string): boolean;
  /** The next `count` API calls answer `status` (default 500) with a problem body. */
  failNext(count: number, status?: number): void;
  setLatency(ms: number): void;
  /** POSTs `payload` to every enabled webhook of its source, with that webhook's headers. */
  deliver(payload: UnipileMessagingPayload | UnipileAccountStatusPayload): Promise<FakeDelivery[]>;
  /** Delivers a new `message_received`. */
  sendMessage(
    options?: MessagePayloadOptions,
  ): Promise<{ payload: UnipileMessagingPayload; deliveries: FakeDelivery[] }>;
  /** Sending through the fake: modes (refuse, rate limit, time out, …) and what it accepted. */
  readonly sends: FakeSends;
  /** The provider's REST view of every message sent (`GET /messages`, `/chats/{id}`, …). */
  readonly history: FakeRestHistory;
  /** While true, webhooks are recorded in the REST history but never delivered (a lost delivery). */
  dropWebhooks(drop: boolean): void;
  /** Attachment downloads (`GET /messages/{id}/attachments/{attachment_id}`): files to serve, requests seen. */
  readonly files: FakeFiles;
  /** `PATCH /chats/{id}` (setReadStatus): calls received, failures to inject. */
  readonly chatReads: FakeChatReads;
  /** Misbehaviours on demand: cycling cursors, huge or trickled answers, a refused key, poisoned items. */
  readonly misbehave: FakeMisbehaviour;
  close(): Promise<void>;
}

const SOURCES = new Set(['messaging', 'account_status', 'email', 'email_tracking', 'users']);

/** The most webhooks one `POST /_fake/traffic` sends; a larger count is refused with 400. */
export const MAX_TRAFFIC_COUNT = 5000;

function problem(reply: FastifyReply, request: FastifyRequest, status: number, type: string, title: string) {
  const detail = `${title} (fake Unipile)`;
  return reply.status(status).send({ title, detail, instance: request.url, type, status });
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : undefined;
}

/** Starts the fake Unipile API (webhooks, REST reads and sends) on a real HTTP port. */
export async function startFakeUnipile(options: FakeUnipileOptions = {}): Promise<FakeUnipile> {
  const apiKey = options.apiKey ?? 'fake-unipile-key';
  const pageSize = options.pageSize ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  let failures = options.failures ? { ...options.failures } : { count: 0, status: 500 };
  const state: FakeUnipileState = { webhooks: [], operations: [], requests: [] };
  let seq = 0;
  const history = new FakeRestHistory();
  let dropping = false;
  const misbehave = createFakeMisbehaviour(history);

  const addWebhook: FakeUnipile['addWebhook'] = (input) => {
    const webhook: FakeWebhook = {
      id: input.id ?? `wh_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      name: input.name ?? '',
      source: input.source ?? 'messaging',
      request_url: input.request_url,
      format: input.format ?? 'json',
      headers: input.headers ?? [],
      events: input.events ?? [],
      account_ids: input.account_ids ?? [],
      enabled: input.enabled ?? true,
      created_at: input.created_at ?? new Date().toISOString(),
    };
    state.webhooks.push(webhook);
    return webhook;
  };

  const disableWebhook: FakeUnipile['disableWebhook'] = (id) => {
    const webhook = state.webhooks.find((candidate) => candidate.id === id);
    if (webhook) webhook.enabled = false;
    return webhook !== undefined;
  };

  const files = createFakeFiles();
  const deliver: FakeUnipile['deliver'] = async (payload) => {
    const source = 'AccountStatus' in payload ? 'account_status' : 'messaging';
    if (!('AccountStatus' in payload)) {
      history.record(payload);
      files.placeholdersFor(payload);
    }
    if (dropping) return [];
    const targets = state.webhooks.filter((webhook) => webhook.enabled && webhook.source === source);
    return Promise.all(
      targets.map(async (webhook) => {
        const body = 'AccountStatus' in payload ? payload : { ...payload, webhook_name: webhook.name };
        // Unipile sends no JSON content type unless the webhook's headers carry one.
        const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' };
        for (const header of webhook.headers) headers[header.key.toLowerCase()] = header.value;
        const result = await deliverWithRetries(
          webhook.request_url,
          headers,
          JSON.stringify(body),
          options.delivery,
        );
        return { ...result, webhookId: webhook.id };
      }),
    );
  };

  const sendMessage: FakeUnipile['sendMessage'] = async (messageOptions) => {
    const payload = messageReceived(messageOptions);
    return { payload, deliveries: await deliver(payload) };
  };

  const sends = createFakeSends({
    deliver,
    chatOf: (chatId) => {
      const chat = history.chats.get(chatId);
      if (!chat) return undefined;
      return {
        accountType: chat.accountType,
        attendees: chat.attendees.map((attendee) => ({
          attendee_id: attendee.id,
          attendee_name: attendee.name,
          attendee_provider_id: attendee.provider_id,
          attendee_profile_url: attendee.profile_url,
        })),
        subject: chat.name,
        isGroup: chat.isGroup,
      };
    },
  });
  const chatReads = createFakeChatReads();
  const app = Fastify({ logger: false });
  // Tolerates clients that send a JSON content type on a DELETE without a body.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.register(
    async (api) => {
      api.addHook('onRequest', async (request, reply) => {
        state.requests.push({ method: request.method, path: request.url.split('?')[0] ?? '' });
        if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        if (request.headers['x-api-key'] !== apiKey) {
          return problem(reply, request, 401, 'errors/missing_credentials', 'Missing credentials');
        }
        if (failures.count > 0) {
          failures.count--;
          return problem(reply, request, failures.status, 'errors/unexpected_error', 'Injected failure');
        }
      });
      api.addHook('onRequest', misbehave.hook);

      sends.routes(api);
      files.routes(api);
      chatReads.routes(api);

      api.post('/webhooks', async (request, reply) => {
        const body = (request.body ?? {}) as Partial<FakeWebhook>;
        const validUrl = typeof body.request_url === 'string' && URL.canParse(body.request_url);
        if (!validUrl || typeof body.source !== 'string' || !SOURCES.has(body.source)) {
          return problem(reply, request, 400, 'errors/invalid_parameters', 'Invalid parameters');
        }
        const webhook = addWebhook({ ...body, request_url: body.request_url as string });
        state.operations.push({
          seq: ++seq,
          op: 'create',
          id: webhook.id,
          name: webhook.name,
          requestUrl: webhook.request_url,
        });
        return reply.status(201).send({ object: 'WebhookCreated', webhook_id: webhook.id });
      });

      api.get('/webhooks', async (request, reply) => {
        const query = request.query as { cursor?: string; limit?: string };
        const offset = query.cursor ? decodeCursor(query.cursor) : 0;
        if (offset === undefined) {
          return problem(reply, request, 400, 'errors/invalid_parameters', 'Invalid cursor');
        }
        const limit = Math.min(pageSize, Math.max(1, Number(query.limit) || pageSize));
        const items = state.webhooks.slice(offset, offset + limit).map((webhook) => ({
          object: 'Webhook',
          ...webhook,
          headers: options.listHeaderValues
            ? webhook.headers
            : webhook.headers.map((header) => ({ key: header.key })),
        }));
        const next = offset + limit < state.webhooks.length ? encodeCursor(offset + limit) : null;
        return { object: 'WebhookList', items, cursor: next };
      });

      api.delete('/webhooks/:id', async (request, reply) => {
        const { id } = request.params as { id: string };
        const index = state.webhooks.findIndex((webhook) => webhook.id === id);
        const found = state.webhooks[index];
        if (!found) return problem(reply, request, 404, 'errors/resource_not_found', 'Resource not found');
        state.webhooks.splice(index, 1);
        state.operations.push({
          seq: ++seq,
          op: 'delete',
          id,
          name: found.name,
          requestUrl: found.request_url,
        });
        return { object: 'WebhookDeleted' };
      });

      restHistoryRoutes(api, history);
    },
    { prefix: '/api/v1' },
  );

  app.post('/_fake/failures', async (request) => {
    const body = (request.body ?? {}) as { count?: number; status?: number };
    failures = { count: Number(body.count ?? 1), status: Number(body.status ?? 500) };
    return { ok: true, failures };
  });
  sends.controlRoutes(app);
  files.controlRoutes(app);
  misbehave.controlRoutes(app);
  app.post('/_fake/latency', async (request) => {
    latencyMs = Number((request.body as { ms?: number } | undefined)?.ms ?? 0);
    return { ok: true, latencyMs };
  });
  app.post('/_fake/messages', async (request) => {
    const body = (request.body ?? {}) as { text?: string; chatId?: string };
    return sendMessage({
      ...(body.text ? { text: body.text } : {}),
      ...(body.chatId ? { chatId: body.chatId } : {}),
    });
  });
  // Conversations go on across requests: each call continues the same stream, unless it is given a seed.
  let conversations = new TrafficScenario();
  app.post('/_fake/traffic', async (request, reply) => {
    const body = (request.body ?? {}) as { count?: number; seed?: number };
    const count = Number(body.count ?? 50);
    // A count it would not send in full is refused, not quietly cut.
    if (!Number.isInteger(count) || count < 0 || count > MAX_TRAFFIC_COUNT) {
      return problem(
        reply,
        request,
        400,
        'errors/invalid_parameters',
        `count must be a whole number from 0 to ${MAX_TRAFFIC_COUNT} (send more with several calls)`,
      );
    }
    if (body.seed !== undefined) conversations = new TrafficScenario(seededRandom(Number(body.seed)));
    const byKind: Partial<Record<TrafficKind, number>> = {};
    let acknowledged = 0;
    for (let index = 0; index < count; index++) {
      const item = conversations.next();
      byKind[item.kind] = (byKind[item.kind] ?? 0) + 1;
      const results = await deliver(item.payload);
      if (results.length > 0 && results.every((result) => result.acknowledged)) acknowledged++;
    }
    return { sent: count, acknowledged, byKind };
  });
  app.post('/_fake/deliver', async (request) =>
    deliver(request.body as UnipileMessagingPayload | UnipileAccountStatusPayload),
  );
  app.post('/_fake/drop-webhooks', async (request) => {
    dropping = (request.body as { drop?: boolean } | undefined)?.drop !== false;
    return { ok: true, dropping };
  });
  app.post('/_fake/webhooks/:id/disable', async (request) => ({
    ok: disableWebhook((request.params as { id: string }).id),
  }));
  app.get('/_fake/state', async () => ({
    webhooks: state.webhooks.map((webhook) => ({
      ...webhook,
      headers: webhook.headers.map((header) => ({ key: header.key, value: '[hidden]' })),
    })),
    operations: state.operations,
  }));

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  return {
    url: address,
    apiKey,
    state,
    addWebhook,
    disableWebhook,
    failNext: (count, status = 500) => {
      failures = { count, status };
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    deliver,
    sendMessage,
    sends,
    history,
    dropWebhooks: (drop) => {
      dropping = drop;
    },
    files,
    chatReads,
    misbehave,
    close: () => {
      sends.release();
      misbehave.release();
      return app.close();
    },
  };
}
