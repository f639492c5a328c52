import type { FastifyInstance } from 'fastify';

/**
 * The fake provider's `PATCH /chats/{chat_id}`: records every call (the gateway marks chats read
 * through it) and answers 200 `{object:"ChatPatched"}`, or a problem while failures are queued.
 */

/** One call the fake received. */
export interface FakeChatPatch {
  chatId: string;
  body: unknown;
  /** The status it answered. */
  status: number;
}

/** The fake's chat updates: what it received, and how the next calls fail. */
export interface FakeChatReads {
  /** Every `PATCH /chats/{chat_id}`, in order, whatever the answer. */
  readonly calls: FakeChatPatch[];
  /** The chats marked read (`setReadStatus` true, answered 200), in order. */
  readonly marked: () => string[];
  /** The next `count` calls answer `status` (default 503) with a problem body. */
  failNext(count: number, status?: number): void;
  /** Registers the route on the fake's `/api/v1` scope. */
  routes(api: FastifyInstance): void;
}

/** Creates the fake's chat-update endpoint. */
export function createFakeChatReads(): FakeChatReads {
  const calls: FakeChatPatch[] = [];
  let failures = { count: 0, status: 503 };
  return {
    calls,
    marked: () =>
      calls
        .filter(
          (call) =>
            call.status === 200 && (call.body as { action?: unknown; value?: unknown })?.value === true,
        )
        .map((call) => call.chatId),
    failNext(count, status = 503) {
      failures = { count, status };
    },
    routes(api) {
      api.patch('/chats/:chat_id', async (request, reply) => {
        const chatId = (request.params as { chat_id: string }).chat_id;
        const body = request.body as { action?: unknown; value?: unknown } | undefined;
        if (failures.count > 0) {
          failures.count--;
          calls.push({ chatId, body, status: failures.status });
          return reply
            .status(failures.status)
            .send({ title: 'Injected failure', type: 'errors/unexpected_error', status: failures.status });
        }
        if (body?.action !== 'setReadStatus' || typeof body.value !== 'boolean') {
          calls.push({ chatId, body, status: 400 });
          return reply
            .status(400)
            .send({ title: 'Invalid parameters', type: 'errors/invalid_parameters', status: 400 });
        }
        calls.push({ chatId, body, status: 200 });
        return { object: 'ChatPatched' };
      });
    },
  };
}
