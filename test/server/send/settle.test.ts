import { describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../../support/databases.js';
import { captureLogs } from '../../support/outbound.js';
import { waitFor } from '../../support/wait.js';
import { chatMessages, openChat, send, sendRow, useSendHarness, waitForStatus } from './support.js';

describe.each(testDatabaseKinds())('settling a send on %s', (kind) => {
  const logs = captureLogs('warn');
  const t = useSendHarness(kind, {}, logs.logger);

  it('logs both ids when the 201 names another message than the echo that settled it, and keeps one message', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.echoFirst(true);
    t.fake.sends.answerOtherId(true);
    try {
      const text = 'ids disagree';
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text })).json();
      const sent = await waitForStatus(t.app, chatId, localId, 'sent');
      const echoId = t.fake.sends.sent.find((message) => message.text === text)?.id;
      expect(sent.messageId).toBe(echoId);
      expect((await sendRow(t.app, localId))?.settled_by).toBe('echo');

      const line = await waitFor(
        () => logs.lines.find((entry) => entry.includes(localId) && entry.includes('another message id')),
        'the mismatch warning',
      );
      const logged = JSON.parse(line) as Record<string, unknown>;
      expect(logged).toMatchObject({
        level: 40,
        localId,
        echoMessageId: echoId,
        responseMessageId: `${echoId}_other`,
      });
      expect(line).not.toContain(text);

      const copies = (await chatMessages(t.app, chatId)).filter((item) => item.text === text);
      expect(copies.map((item) => item.messageId)).toEqual([echoId]);
    } finally {
      t.fake.sends.echoFirst(false);
      t.fake.sends.answerOtherId(false);
    }
  });

  it('logs nothing when the 201 and the echo agree', async () => {
    const { account, chatId } = await openChat(t.app);
    t.fake.sends.echoFirst(true);
    try {
      const { localId } = (await send(t.app, chatId, { accountId: account.id, text: 'ids agree' })).json();
      await waitForStatus(t.app, chatId, localId, 'sent');
      // The 201's transition is the worker's last step for this send: wait until none is in flight.
      await waitFor(async () => {
        const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
        return ready.body.includes('running, 0 in flight');
      }, 'no send in flight');
      expect(logs.lines.filter((entry) => entry.includes(localId))).toEqual([]);
    } finally {
      t.fake.sends.echoFirst(false);
    }
  });
});
