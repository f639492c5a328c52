import { describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import {
  chatMessages,
  inboundMentioning,
  openChat,
  publishedStatuses,
  send,
  sendRow,
  useSendHarness,
  waitForStatus,
} from './support.js';

describe.each(testDatabaseKinds())('sending through the provider on %s', (kind) => {
  const t = useSendHarness(kind);

  it('stores the message as pending at once, then sent with the provider id; the echo adds no second message', async () => {
    const { account, chatId } = await openChat(t.app);
    const response = await send(t.app, chatId, { accountId: account.id, text: 'On my way' });
    expect(response.statusCode).toBe(202);
    const accepted = response.json();
    expect(accepted).toMatchObject({ status: 'pending', messageId: null, text: 'On my way', isSender: true });
    expect(accepted.localId).toMatch(/^lm_/);

    const sent = await waitForStatus(t.app, chatId, accepted.localId, 'sent');
    const provided = t.fake.sends.sent.find((message) => message.text === 'On my way');
    expect(sent.messageId).toBe(provided?.id);
    await waitFor(() => inboundMentioning(t.app, provided!.id), 'the echo arrived');
    const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === 'On my way');
    expect(copies).toHaveLength(1);
    expect(await publishedStatuses(t.app, accepted.localId)).toEqual(['pending', 'sent']);
    expect((await sendRow(t.app, accepted.localId))?.settled_by).toBe('response');
  });

  it('parses a 201 answered as a one-element list', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.answerAsList(true);
    try {
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'listed' })).json();
      const sent = await waitForStatus(t.app, chatId, localId, 'sent');
      expect(sent.messageId).toBe(t.fake.sends.sent.find((message) => message.text === 'listed')?.id);
    } finally {
      t.fake.sends.answerAsList(false);
    }
  });

  it('marks a refusal (422) failed with the reason, does not retry, and re-queues it on retry', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.next('refuse');
    const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'refused once' })).json();
    await waitForStatus(t.app, chatId, localId, 'failed');
    const row = await sendRow(t.app, localId);
    expect(row?.last_error).toContain('cant_send_message');
    expect(t.fake.sends.received.filter((request) => request.text === 'refused once')).toHaveLength(1);

    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/chats/${chatId}/messages/${localId}/retry`,
      headers: { authorization: 'Bearer test-api-token-0123456789' },
    });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ localId, status: 'pending' });
    await waitForStatus(t.app, chatId, localId, 'sent');
    expect(await publishedStatuses(t.app, localId)).toEqual(['pending', 'failed', 'pending', 'sent']);

    const again = await t.app.inject({
      method: 'POST',
      url: `/api/chats/${chatId}/messages/${localId}/retry`,
      headers: { authorization: 'Bearer test-api-token-0123456789' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('HL_ERR_CONFLICT');
  });

  it('retries a rate-limited send (429) with backoff until it is sent', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.next('rate-limit', 2);
    const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'throttled' })).json();
    await waitForStatus(t.app, chatId, localId, 'sent');
    expect(t.fake.sends.received.filter((request) => request.text === 'throttled')).toHaveLength(3);
    expect(t.fake.sends.sent.filter((message) => message.text === 'throttled')).toHaveLength(1);
    expect(await publishedStatuses(t.app, localId)).toEqual(['pending', 'sent']);
  });

  it('settles a timed-out send from the echo, without resending', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.next('timeout');
    const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'slow answer' })).json();
    const sent = await waitForStatus(t.app, chatId, localId, 'sent');
    expect(sent.messageId).toBe(t.fake.sends.sent.find((message) => message.text === 'slow answer')?.id);
    expect((await sendRow(t.app, localId))?.settled_by).toBe('echo');
    expect(t.fake.sends.received.filter((request) => request.text === 'slow answer')).toHaveLength(1);
    const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === 'slow answer');
    expect(copies).toHaveLength(1);
  });

  it('settles an unknown send by looking up the chat when no echo comes', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.setEcho(false);
    try {
      t.fake.sends.next('timeout');
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'no echo' })).json();
      const sent = await waitForStatus(t.app, chatId, localId, 'sent');
      expect(sent.messageId).toBe(t.fake.sends.sent.find((message) => message.text === 'no echo')?.id);
      expect((await sendRow(t.app, localId))?.settled_by).toBe('lookup');
      expect(await publishedStatuses(t.app, localId)).toEqual(['pending', 'unknown', 'sent']);
      expect(t.fake.sends.received.filter((request) => request.text === 'no echo')).toHaveLength(1);
    } finally {
      t.fake.sends.setEcho(true);
    }
  });

  it('resends an unknown send only once the lookup shows it was not sent', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.next('drop');
    const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'dropped' })).json();
    await waitForStatus(t.app, chatId, localId, 'sent');
    expect(await publishedStatuses(t.app, localId)).toEqual(['pending', 'unknown', 'pending', 'sent']);
    expect(t.fake.sends.received.filter((request) => request.text === 'dropped')).toHaveLength(2);
    expect(t.fake.sends.sent.filter((message) => message.text === 'dropped')).toHaveLength(1);
  });

  it('gives one message when the echo arrives before the 201', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.echoFirst(true);
    try {
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'echo first' })).json();
      const sent = await waitForStatus(t.app, chatId, localId, 'sent');
      const provided = t.fake.sends.sent.find((message) => message.text === 'echo first');
      expect(sent.messageId).toBe(provided?.id);
      expect((await sendRow(t.app, localId))?.settled_by).toBe('echo');
      const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === 'echo first');
      expect(copies).toHaveLength(1);
      expect(await publishedStatuses(t.app, localId)).toEqual(['pending', 'sent']);
    } finally {
      t.fake.sends.echoFirst(false);
    }
  });
});
