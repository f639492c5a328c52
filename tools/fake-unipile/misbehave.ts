import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FakeRestHistory, FakeRestMessage } from './rest-history.js';

/** A paged listing of the fake's REST API that can be made to cycle its cursors. */
export type FakeListing = 'messages' | 'accounts' | 'attendees';

/**
 * Ways the fake provider misbehaves on demand, as real APIs do (docs/reliability.md, "provider
 * misbehaves"); sends that are never confirmed are a send mode (`unlisted`, sends.ts).
 */
export interface FakeMisbehaviourSettings {
  /** Listings that answer `cycle-a` → `cycle-b` → `cycle-a` … forever, one item a page. */
  cycle: FakeListing[];
  /** When > 0, `GET /messages` answers a well-formed list this many bytes long, streamed. */
  hugeBytes: number;
  /** When > 0, `GET /messages` sends its answer's first bytes, then one byte every this many ms, forever. */
  trickleMs: number;
  /** Every API call answers `401 errors/invalid_credentials`, whatever the key. */
  refuseKey: boolean;
  /** When > 0, `GET /accounts` lists every account again on each of this many pages. */
  repeatAccounts: number;
}

/** The fake's misbehaviours: what is on, what it served, and the hook and routes that apply them. */
export interface FakeMisbehaviour {
  readonly settings: FakeMisbehaviourSettings;
  /** Bytes of huge and trickled answers written so far (what the gateway was offered). */
  readonly bytesServed: number;
  /** Turns misbehaviours on or off (omitted fields stay as they are). */
  set(settings: Partial<FakeMisbehaviourSettings>): void;
  /** Back to a well-behaved provider. */
  reset(): void;
  /**
   * Adds to the REST history, in `chatId`, the poisoned items a provider may list among valid
   * ones: a text with U+0000, one cut mid-emoji (a lone surrogate) and one over 1 MiB, between
   * two valid messages. Returns the ids: `valid` (both), `cleaned` (NUL, surrogate), `tooLarge`.
   */
  poison(
    history: FakeRestHistory,
    accountId: string,
    chatId: string,
    at?: Date,
  ): { valid: string[]; cleaned: string[]; tooLarge: string };
  /** The `onRequest` hook of the fake's `/api/v1` scope (after the key check). */
  hook(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** Registers `POST /_fake/misbehave` (the settings as JSON; `{"reset": true}` resets). */
  controlRoutes(app: FastifyInstance): void;
  /** Ends trickled answers still open (the fake is closing). */
  release(): void;
}

const WELL_BEHAVED: FakeMisbehaviourSettings = {
  cycle: [],
  hugeBytes: 0,
  trickleMs: 0,
  refuseKey: false,
  repeatAccounts: 0,
};

/** A REST message as the fake lists it, with the fields a test varies. */
function restMessage(
  fields: Partial<FakeRestMessage> & Pick<FakeRestMessage, 'id' | 'account_id' | 'chat_id'>,
) {
  return {
    object: 'Message' as const,
    chat_provider_id: null,
    provider_id: null,
    sender_id: 'att_poison',
    sender_attendee_id: 'att_poison',
    text: 'valid',
    timestamp: new Date().toISOString(),
    is_sender: 0,
    seen: 0,
    delivered: 1,
    edited: 0,
    deleted: 0,
    hidden: 0,
    is_event: 0,
    reactions: [],
    attachments: [],
    quoted: null,
    ...fields,
  };
}

/** Which listing a request reads, if it is one the fake can cycle. */
function listingOf(request: FastifyRequest): FakeListing | undefined {
  if (request.method !== 'GET') return undefined;
  const path = request.url.split('?')[0] ?? '';
  if (path.endsWith('/messages') && !path.includes('/chats/')) return 'messages';
  if (path.endsWith('/accounts')) return 'accounts';
  if (path.endsWith('/attendees')) return 'attendees';
  return undefined;
}

/** Creates the fake's misbehaviour controls, all off, over the fake's REST history. */
export function createFakeMisbehaviour(history: FakeRestHistory): FakeMisbehaviour {
  let settings: FakeMisbehaviourSettings = { ...WELL_BEHAVED, cycle: [] };
  let bytesServed = 0;
  const open = new Set<NodeJS.Timeout>();

  function cyclePage(listing: FakeListing, request: FastifyRequest) {
    const query = request.query as { cursor?: string; account_id?: string };
    const cursor = query.cursor === 'cycle-a' ? 'cycle-b' : 'cycle-a';
    const accountId = query.account_id ?? 'acc_cycle';
    const item =
      listing === 'accounts'
        ? {
            object: 'Account',
            id: 'acc_cycle',
            type: 'WHATSAPP',
            sources: [{ id: 'acc_cycle_M', status: 'OK' }],
          }
        : listing === 'attendees'
          ? { object: 'ChatAttendee', id: 'att_cycle', provider_id: 'p_cycle', name: 'Cycle', is_self: 0 }
          : restMessage({ id: 'msg_cycle', account_id: accountId, chat_id: 'chat_cycle' });
    return { object: 'List', items: [item], cursor };
  }

  /** `{"object":"MessageList","items":[…]}` of `bytes` bytes, one 1 KiB message at a time. */
  function hugeAnswer(request: FastifyRequest, bytes: number): Readable {
    const accountId = (request.query as { account_id?: string }).account_id ?? 'acc_huge';
    const text = 'x'.repeat(900);
    let written = 0;
    let index = 0;
    return Readable.from(
      (function* () {
        const head = '{"object":"MessageList","items":[';
        written += head.length;
        yield head;
        while (written < bytes) {
          const item = JSON.stringify(
            restMessage({ id: `msg_huge_${index}`, account_id: accountId, chat_id: 'chat_huge', text }),
          );
          const chunk = index++ === 0 ? item : `,${item}`;
          written += chunk.length;
          bytesServed += chunk.length;
          yield chunk;
        }
        yield '],"cursor":null}';
      })(),
      { objectMode: false },
    );
  }

  function trickle(reply: FastifyReply, everyMs: number): void {
    reply.raw.writeHead(200, { 'content-type': 'application/json' });
    reply.raw.write('{"object":"MessageList","items":[');
    const timer = setInterval(() => {
      if (reply.raw.destroyed) {
        clearInterval(timer);
        open.delete(timer);
        return;
      }
      bytesServed++;
      reply.raw.write(' ');
    }, everyMs);
    open.add(timer);
    reply.raw.on('close', () => {
      clearInterval(timer);
      open.delete(timer);
    });
  }

  return {
    get settings() {
      return settings;
    },
    get bytesServed() {
      return bytesServed;
    },
    set(changes) {
      settings = { ...settings, ...changes };
    },
    reset() {
      settings = { ...WELL_BEHAVED, cycle: [] };
    },
    poison(history, accountId, chatId, at = new Date()) {
      const time = (offsetMs: number) => new Date(at.getTime() - offsetMs).toISOString();
      const id = (name: string) => `msg_${name}_${at.getTime()}`;
      const add = (name: string, text: string, offsetMs: number) =>
        history.add(
          restMessage({
            account_id: accountId,
            chat_id: chatId,
            id: id(name),
            text,
            timestamp: time(offsetMs),
          }),
        );
      add('ok_1', 'before the poison', 1);
      add('nul', 'a\u0000b', 2);
      add('half', 'cut \ud83d', 3);
      add('huge_text', 'y'.repeat(1024 * 1024 + 1), 4);
      add('ok_2', 'after the poison', 5);
      return { valid: [id('ok_1'), id('ok_2')], cleaned: [id('nul'), id('half')], tooLarge: id('huge_text') };
    },
    async hook(request, reply) {
      if (settings.refuseKey) {
        return reply.status(401).send({
          status: 401,
          type: 'errors/invalid_credentials',
          title: 'Invalid credentials',
          detail: 'The API key was refused (fake Unipile)',
        });
      }
      const listing = listingOf(request);
      if (!listing) return undefined;
      if (listing === 'accounts' && settings.repeatAccounts > 0 && !settings.cycle.includes('accounts')) {
        const page = Number((request.query as { cursor?: string }).cursor?.replace('repeat-', '') ?? 0);
        const items = [...history.accounts.values()].map((account) => ({
          object: 'Account',
          id: account.id,
          type: account.type,
          sources: [{ id: `${account.id}_MESSAGING`, status: account.status }],
        }));
        const cursor = page + 1 < settings.repeatAccounts ? `repeat-${page + 1}` : null;
        return reply.send({ object: 'AccountList', items, cursor });
      }
      if (settings.cycle.includes(listing)) return reply.send(cyclePage(listing, request));
      if (listing !== 'messages') return undefined;
      if (settings.hugeBytes > 0)
        return reply.type('application/json').send(hugeAnswer(request, settings.hugeBytes));
      if (settings.trickleMs > 0) {
        // Fastify lets go of the reply first: the raw response is written by hand from here on.
        reply.hijack();
        trickle(reply, settings.trickleMs);
        return reply;
      }
      return undefined;
    },
    controlRoutes(app) {
      app.post('/_fake/misbehave', async (request) => {
        const body = (request.body ?? {}) as Partial<FakeMisbehaviourSettings> & { reset?: boolean };
        if (body.reset) this.reset();
        const { reset: _reset, ...changes } = body;
        this.set(changes);
        return { ok: true, settings, bytesServed };
      });
    },
    release() {
      for (const timer of open) clearInterval(timer);
      open.clear();
    },
  };
}
