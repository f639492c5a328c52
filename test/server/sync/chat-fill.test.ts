import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeAccount,
  fakeAccount,
  messageReceived,
  type UnipileMessagingPayload,
} from '../../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../../tools/fake-unipile/server.js';
import { useTestApp } from '../../support/app.js';
import { testDatabaseKinds } from '../../support/databases.js';
import { read } from '../../support/db-read.js';
import { postWebhook } from '../../support/webhooks.js';

describe.each(testDatabaseKinds())('chats filled in from the provider on %s', (kind) => {
  let fake: FakeUnipile;
  const env: Record<string, string> = {
    UNIPILE_SYNC_INTERVAL_SECONDS: '0',
    UNIPILE_RETRY_MIN_MS: '10',
    UNIPILE_RETRY_MAX_MS: '20',
  };
  beforeAll(async () => {
    fake = await startFakeUnipile();
    env.UNIPILE_DSN = fake.url;
    env.UNIPILE_API_KEY = fake.apiKey;
  });
  afterAll(() => fake.close());
  const t = useTestApp(kind, { env });

  /** A group chat the provider knows, with its name and attendees. */
  function knownGroup(account: FakeAccount, chatId = `chat_${Math.random().toString(36).slice(2)}`) {
    const opening = { ...messageReceived({ account, chatId }), subject: 'Team', is_group: 1 };
    fake.history.record(opening);
    return { chatId, opening };
  }

  /** A webhook that names neither the chat's attendees nor its name or kind. */
  function bare(account: FakeAccount, chatId: string): UnipileMessagingPayload {
    const { is_group: _group, subject: _subject, ...payload } = messageReceived({ account, chatId });
    return { ...payload, attendees: [] };
  }

  const chatCalls = (chatId: string) =>
    fake.state.requests.filter((request) => request.path === `/api/v1/chats/${chatId}`).length;

  it('fills in a chat a webhook named without details, once, after answering', async () => {
    const account = fakeAccount();
    const { chatId, opening } = knownGroup(account);
    fake.setLatency(1_000);
    try {
      expect((await postWebhook(t.app, bare(account, chatId))).json()).toEqual({
        ok: true,
        duplicate: false,
      });
      // Answered while the provider is still being asked.
      expect(await read.chat(t.db.database, account.id, chatId)).toMatchObject({ attendees: null });
      await t.app.sync.chats?.idle();
    } finally {
      fake.setLatency(0);
    }
    const chat = await read.chat(t.db.database, account.id, chatId);
    expect(chat).toMatchObject({ subject: 'Team', is_group: true, account_type: account.type });
    expect(chat?.attendees).toEqual(
      opening.attendees.map((attendee) =>
        expect.objectContaining({ id: attendee.attendee_id, name: attendee.attendee_name }),
      ),
    );
    expect(chatCalls(chatId)).toBe(1);

    // The next webhooks of that chat ask the provider nothing.
    expect((await postWebhook(t.app, bare(account, chatId))).statusCode).toBe(200);
    await t.app.sync.chats?.idle();
    expect(chatCalls(chatId)).toBe(1);
  });

  it('asks nothing for a chat whose webhook named its attendees', async () => {
    const account = fakeAccount();
    const { chatId, opening } = knownGroup(account);
    expect((await postWebhook(t.app, opening)).statusCode).toBe(200);
    await t.app.sync.chats?.idle();
    expect(chatCalls(chatId)).toBe(0);
  });

  it('backs off and retries when the provider throttles (429)', async () => {
    const account = fakeAccount();
    const { chatId } = knownGroup(account);
    fake.failNext(2, 429);
    expect((await postWebhook(t.app, bare(account, chatId))).statusCode).toBe(200);
    await t.app.sync.chats?.idle();
    expect(await read.chat(t.db.database, account.id, chatId)).toMatchObject({ subject: 'Team' });
  });

  it('leaves a chat the provider does not know as the webhook stored it', async () => {
    const account = fakeAccount();
    const chatId = 'chat_unknown_to_provider';
    expect((await postWebhook(t.app, bare(account, chatId))).statusCode).toBe(200);
    await t.app.sync.chats?.idle();
    expect(chatCalls(chatId)).toBe(1);
    expect(await read.chat(t.db.database, account.id, chatId)).toMatchObject({
      attendees: null,
      subject: null,
    });
    const metrics = await t.app.metrics.getSingleMetricAsString('hookline_sync_chat_fills_total');
    expect(metrics).toMatch(/result="not_found"} [1-9]/);
    expect(metrics).toMatch(/result="filled"} [1-9]/);
  });
});
