import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  type FakeAccount,
  messageReceived,
  type UnipileAttendee,
  type UnipileMessagingPayload,
} from './payloads.js';

/**
 * How the fake answers a send:
 * - `accept`: 201 `{object:"MessageSent", message_id}`, then the echo webhook;
 * - `refuse`: 422 `errors/cant_send_message`, nothing sent;
 * - `rate-limit`: 429, nothing sent;
 * - `error`: the message IS sent (and echoed), but the answer is a 500;
 * - `timeout`: the message IS sent (and echoed), but no answer comes until the client gives up;
 * - `drop`: nothing is sent and no answer comes (a lookup then shows it was not sent);
 * - `unlisted`: the message IS sent, but the answer is a 201 without `message_id`, no echo comes
 *   and the chat's listing never shows it (a listing that lags, a text the provider normalised).
 */
export type FakeSendMode = 'accept' | 'refuse' | 'rate-limit' | 'error' | 'timeout' | 'drop' | 'unlisted';

/** A file the fake provider received with a send, as its webhooks and REST messages describe it. */
export interface FakeSentAttachment {
  id: string;
  filename: string;
  mimetype: string;
  size: number;
}

/** A file part of a send request, with its bytes (tests compare them with what was uploaded). */
export interface FakeReceivedFile {
  filename: string;
  mimetype: string;
  bytes: Buffer;
}

/** A message the fake provider accepted (what `GET /chats/{id}/messages` lists). */
export interface FakeSentMessage {
  id: string;
  chatId: string;
  accountId: string;
  text: string;
  quoteId: string | null;
  timestamp: string;
  attachments: FakeSentAttachment[];
}

/** Largest send request the fake reads (the gateway's own limits are far below it). */
const SEND_BODY_LIMIT_BYTES = 512 * 1024 * 1024;

/** How the fake's send endpoint echoes accepted sends as webhooks. */
export interface FakeSendsOptions {
  /** Delivers a webhook to the registered gateway (the fake's `deliver`). */
  deliver: (payload: UnipileMessagingPayload) => Promise<unknown>;
  /** Delay before the echo webhook. Default 50 ms. */
  echoDelayMs?: number;
  /** What the fake knows of a chat (from webhooks it delivered), for echoes that describe it. Default: nothing. */
  chatOf?: (chatId: string) => EchoChat | undefined;
}

/** A chat as an echo describes it: its network, its people, and a group's name. */
export interface EchoChat {
  accountType: string;
  attendees: UnipileAttendee[];
  subject: string | null;
  isGroup: boolean;
}

/** The fake's send endpoint: what it received and accepted, and how the next sends behave. */
export interface FakeSends {
  /** Every message accepted, in order. */
  readonly sent: FakeSentMessage[];
  /** Every send request received, whatever the answer. */
  readonly received: {
    chatId: string;
    accountId: string;
    text: string;
    mode: FakeSendMode;
    attachments: FakeReceivedFile[];
  }[];
  /** The next `count` sends behave as `mode` (default one); after them, `accept` again. */
  next(mode: FakeSendMode, count?: number): void;
  /** Whether accepted sends are echoed as webhooks (default true), and after how long. */
  setEcho(enabled: boolean, delayMs?: number): void;
  /** Delivers the echo, and waits for the gateway to take it, before answering 201. Default false. */
  echoFirst(on: boolean): void;
  /** Answers a 201 as a one-element list, as some integrations see it. Default false. */
  answerAsList(on: boolean): void;
  /** Answers a 201 whose `message_id` is not the id its echo and REST messages carry. Default false. */
  answerOtherId(on: boolean): void;
  /** Runs `hook` with each accepted message just before its 201 is written (chaos tests kill the gateway there). */
  beforeAnswer(hook: ((message: FakeSentMessage) => void) | undefined): void;
  /** Registers `POST` and `GET /chats/:chat_id/messages` on the fake's `/api/v1` scope. */
  routes(api: FastifyInstance): void;
  /** Registers `POST /_fake/sends {mode, count, echo, echoDelayMs}` on the fake's root. */
  controlRoutes(app: FastifyInstance): void;
  /** Releases requests held by `timeout` and `drop` (the fake is closing). */
  release(): void;
}

/** The fake provider's sending side: accepts multipart sends and echoes them as the provider does. */
export function createFakeSends(options: FakeSendsOptions): FakeSends {
  const sent: FakeSentMessage[] = [];
  const received: FakeSends['received'] = [];
  const queue: FakeSendMode[] = [];
  let echo = true;
  let echoDelayMs = options.echoDelayMs ?? 50;
  let asList = false;
  let otherId = false;
  let echoBeforeAnswer = false;
  let answerHook: ((message: FakeSentMessage) => void) | undefined;
  const held = new Set<() => void>();
  /** Messages sent in `unlisted` mode: delivered, yet absent from the chat's listing. */
  const unlisted = new Set<string>();

  const hold = () =>
    new Promise<void>((resolve) => {
      held.add(resolve);
    });

  function echoPayload(message: FakeSentMessage): UnipileMessagingPayload {
    const account: FakeAccount = {
      id: message.accountId,
      type: 'WHATSAPP',
      userId: `self_${message.accountId}`,
    };
    const payload = {
      ...messageReceived({
        account,
        chatId: message.chatId,
        messageId: message.id,
        text: message.text,
        fromAccount: true,
        timestamp: new Date(message.timestamp),
        attachments: message.attachments.map(unipileAttachment),
      }),
      is_sender: true,
    };
    const chat = options.chatOf?.(message.chatId);
    if (chat) {
      return {
        ...payload,
        account_type: chat.accountType,
        account_info: { ...payload.account_info, type: chat.accountType },
        attendees: chat.attendees,
        subject: chat.subject,
        is_group: chat.isGroup ? 1 : 0,
      };
    }
    // A chat the fake never described (its messages went straight to the gateway): the echo
    // leaves its network, people and group flag out, so the gateway keeps what it knows.
    const {
      account_type: _type,
      is_group: _group,
      subject: _subject,
      ...rest
    } = payload as Record<string, unknown>;
    return {
      ...rest,
      account_info: { feature: 'organization', user_id: account.userId },
      attendees: [],
    } as unknown as UnipileMessagingPayload;
  }

  function echoLater(message: FakeSentMessage): void {
    if (!echo || echoBeforeAnswer) return;
    setTimeout(() => void options.deliver(echoPayload(message)).catch(() => {}), echoDelayMs);
  }

  return {
    sent,
    received,
    next(mode, count = 1) {
      for (let index = 0; index < count; index++) queue.push(mode);
    },
    setEcho(enabled, delayMs) {
      echo = enabled;
      if (delayMs !== undefined) echoDelayMs = delayMs;
    },
    echoFirst(on) {
      echoBeforeAnswer = on;
    },
    answerAsList(on) {
      asList = on;
    },
    answerOtherId(on) {
      otherId = on;
    },
    beforeAnswer(hook) {
      answerHook = hook;
    },
    routes(api) {
      api.addContentTypeParser(
        'multipart/form-data',
        { parseAs: 'buffer', bodyLimit: SEND_BODY_LIMIT_BYTES },
        (request, body, done) => {
          const type = request.headers['content-type'] ?? '';
          new Response(new Uint8Array(body as Buffer), { headers: { 'content-type': type } }).formData().then(
            (form) => done(null, form),
            (error: Error) => done(error, undefined),
          );
        },
      );

      api.post('/chats/:chat_id/messages', async (request, reply) => {
        const { chat_id: chatId } = request.params as { chat_id: string };
        const form = request.body;
        if (!(form instanceof FormData)) {
          return reply
            .status(400)
            .send({ status: 400, type: 'errors/invalid_parameters', title: 'Expected multipart/form-data' });
        }
        const text = form.get('text');
        const accountId = form.get('account_id');
        if (typeof text !== 'string' || typeof accountId !== 'string' || accountId === '') {
          return reply
            .status(400)
            .send({ status: 400, type: 'errors/invalid_parameters', title: 'Invalid parameters' });
        }
        const quote = form.get('quote_id');
        const files = await Promise.all(
          form
            .getAll('attachments')
            .filter((part): part is File => typeof part !== 'string')
            .map(async (file) => ({
              filename: file.name,
              mimetype: file.type,
              bytes: Buffer.from(await file.arrayBuffer()),
            })),
        );
        const mode = queue.shift() ?? 'accept';
        received.push({ chatId, accountId, text, mode, attachments: files });
        if (mode === 'refuse') {
          return reply.status(422).send({
            status: 422,
            type: 'errors/cant_send_message',
            title: 'Cannot send message',
            detail: 'The recipient cannot be reached',
          });
        }
        if (mode === 'rate-limit') {
          return reply
            .status(429)
            .send({ status: 429, type: 'errors/too_many_requests', title: 'Too many requests' });
        }
        if (mode === 'drop') {
          await hold();
          return reply.status(504).send({ status: 504, title: 'Released' });
        }
        const message: FakeSentMessage = {
          id: `msg_${randomUUID().replaceAll('-', '').slice(0, 22)}`,
          chatId,
          accountId,
          text,
          quoteId: typeof quote === 'string' ? quote : null,
          timestamp: new Date().toISOString(),
          attachments: files.map((file) => ({
            id: `att_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
            filename: file.filename,
            mimetype: file.mimetype,
            size: file.bytes.length,
          })),
        };
        sent.push(message);
        if (mode === 'unlisted') {
          unlisted.add(message.id);
          return reply.status(201).send({ object: 'MessageSent' });
        }
        echoLater(message);
        if (mode === 'error')
          return reply
            .status(500)
            .send({ status: 500, type: 'errors/unexpected_error', title: 'Unexpected error' });
        if (mode === 'timeout') {
          await hold();
          return reply.status(504).send({ status: 504, title: 'Released' });
        }
        if (echo && echoBeforeAnswer) await options.deliver(echoPayload(message));
        answerHook?.(message);
        const answer = { object: 'MessageSent', message_id: otherId ? `${message.id}_other` : message.id };
        return reply.status(201).send(asList ? [answer] : answer);
      });

      api.get('/chats/:chat_id/messages', async (request) => {
        const { chat_id: chatId } = request.params as { chat_id: string };
        const limit = Math.max(1, Math.min(250, Number((request.query as { limit?: string }).limit) || 100));
        const items = sent
          .filter((message) => message.chatId === chatId && !unlisted.has(message.id))
          .reverse()
          .slice(0, limit)
          .map((message) => ({
            object: 'Message',
            id: message.id,
            chat_id: message.chatId,
            account_id: message.accountId,
            text: message.text,
            is_sender: 1,
            timestamp: message.timestamp,
            attachments: message.attachments.map(unipileAttachment),
          }));
        return { object: 'MessageList', items, cursor: null };
      });
    },
    controlRoutes(app) {
      app.post('/_fake/sends', async (request) => {
        const body = (request.body ?? {}) as {
          mode?: FakeSendMode;
          count?: number;
          echo?: boolean;
          echoDelayMs?: number;
        };
        if (body.mode) this.next(body.mode, Number(body.count ?? 1));
        if (body.echo !== undefined || body.echoDelayMs !== undefined)
          this.setEcho(body.echo ?? echo, body.echoDelayMs);
        return { ok: true, queued: [...queue], echo, echoDelayMs, sent: sent.length };
      });
    },
    release() {
      for (const resolve of held) resolve();
      held.clear();
    },
  };
}

/** An attachment as Unipile describes a file in webhooks and REST messages. */
function unipileAttachment(attachment: FakeSentAttachment) {
  const kind = attachment.mimetype.split('/')[0];
  return {
    id: attachment.id,
    type: kind === 'image' ? 'img' : kind === 'video' || kind === 'audio' ? kind : 'file',
    file_name: attachment.filename,
    mimetype: attachment.mimetype,
    file_size: attachment.size,
    unavailable: false,
  };
}
