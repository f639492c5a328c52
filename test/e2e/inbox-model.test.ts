import { expect, it } from 'vitest';
import {
  accountStatus,
  fakeAccount,
  fakeAttachment,
  fakeAttendee,
  followUp,
  messageReceived,
} from '../../tools/fake-unipile/payloads.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/**
 * What the inbox page shows of the model, in a real Chromium against the real gateway: each
 * chat's network and last-message time, attachments, reactions, edits, deletions, and a banner
 * while an account needs its owner's attention.
 */
describeBrowser('the inbox page shows what the model holds', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const linkedin = fakeAccount('LINKEDIN');
  const whatsapp = fakeAccount('WHATSAPP');
  const gateway = useInboxGateway(db);

  const page = () => browser.page;
  const openInbox = () => gateway.open(page(), [linkedin.id, whatsapp.id]);
  const chatButton = (chatId: string) => page().locator(`#chat-list button[data-chat-id="${chatId}"]`);
  const bubble = (text: string) => page().locator('#messages .message', { hasText: text });
  const deliver = async (payload: unknown) =>
    expect((await postWebhook(gateway.app, payload)).statusCode).toBe(200);

  it("shows each chat's network, its last message's time, and a group by its name", async () => {
    const old = new Date(Date.UTC(2024, 2, 14, 9, 30));
    await deliver(
      messageReceived({
        account: linkedin,
        chatId: 'chat_recruiter',
        text: 'Open to a chat about a staff role?',
        sender: fakeAttendee('LINKEDIN', 'Priyanka Shah'),
        timestamp: old,
      }),
    );
    const now = new Date();
    const family = [fakeAttendee('WHATSAPP', 'Hélène Martin'), fakeAttendee('WHATSAPP', 'Léa Martin')];
    await deliver(
      messageReceived({
        account: whatsapp,
        chatId: 'chat_family',
        text: 'Who is coming for Sunday lunch?',
        sender: family[0],
        attendees: family,
        subject: 'Family',
        timestamp: now,
      }),
    );
    await openInbox();

    const recruiter = chatButton('chat_recruiter');
    await expect.poll(() => recruiter.locator('.network').textContent()).toBe('LinkedIn');
    expect(await recruiter.locator('.chat-name').textContent()).toBe('Priyanka Shah');
    expect(await recruiter.locator('.chat-time').getAttribute('datetime')).toBe(old.toISOString());
    const oldText = await recruiter.locator('.chat-time').textContent();
    expect(oldText).toContain('2024');
    expect(oldText).toContain('Mar');

    const group = chatButton('chat_family');
    expect(await group.locator('.network').textContent()).toBe('WhatsApp');
    expect(await group.locator('.network').getAttribute('data-network')).toBe('whatsapp');
    expect(await group.locator('.chat-name').textContent()).toContain('Family');
    expect(await group.locator('.group-marker').count()).toBe(1);
    expect(await group.locator('.chat-time').getAttribute('datetime')).toBe(now.toISOString());
    expect(await group.locator('.chat-time').textContent()).toMatch(/^\d{1,2}:\d{2}/);

    await group.click();
    await bubble('Who is coming').waitFor();
    expect(await page().locator('#chat-network').textContent()).toBe('WhatsApp');
    expect(await bubble('Who is coming').locator('.author').textContent()).toBe('Hélène Martin');

    // A message arriving live moves the time of the chat it lands in.
    const later = new Date(now.getTime() + 60_000);
    await deliver(
      messageReceived({
        account: linkedin,
        chatId: 'chat_recruiter',
        text: 'Thursday 3pm?',
        timestamp: later,
      }),
    );
    await expect
      .poll(() => recruiter.locator('.chat-time').getAttribute('datetime'))
      .toBe(later.toISOString());
  });

  it('shows attachments, reactions, edits and deletions, live and after a reload', async () => {
    const daniel = fakeAttendee('LINKEDIN', 'Daniel Okafor');
    const on = { account: linkedin, chatId: 'chat_slides', sender: daniel };
    const slides = messageReceived({
      ...on,
      text: 'Here are the slides',
      attachments: [
        fakeAttachment({
          type: 'file',
          filename: 'webhooks-at-scale.pdf',
          mimetype: 'application/pdf',
          bytes: 3_512_400,
        }),
      ],
    });
    const typo = messageReceived({ ...on, text: 'Thansk for the intro' });
    const regret = messageReceived({ ...on, text: 'Something I should not have sent' });
    for (const payload of [slides, typo, regret]) await deliver(payload);
    await openInbox();
    await chatButton('chat_slides').click();
    await bubble('Here are the slides').waitFor();

    const attachment = bubble('Here are the slides').locator('.attachment');
    expect(await attachment.locator('.attachment-name').textContent()).toBe('webhooks-at-scale.pdf');
    expect(await attachment.locator('.attachment-details').textContent()).toBe('application/pdf · 3.5 MB');
    expect(await attachment.getAttribute('data-type')).toBe('file');

    const me = {
      attendee_id: `self_${linkedin.id}`,
      attendee_name: 'Me',
      attendee_provider_id: linkedin.userId,
    };
    await deliver(followUp('message_reaction', slides, { reaction: '🔥', reaction_sender: me }));
    await deliver(followUp('message_edited', typo, { message: 'Thanks for the intro' }));
    await deliver(followUp('message_deleted', regret));

    const checkState = async () => {
      await expect.poll(() => bubble('Here are the slides').locator('.reaction').textContent()).toBe('🔥');
      expect(await bubble('Here are the slides').locator('.reaction').getAttribute('title')).toBe('Me');
      await expect.poll(() => bubble('Thanks for the intro').locator('.edited-marker').count()).toBe(1);
      expect(await bubble('Thanks for the intro').locator('.text').textContent()).toBe(
        'Thanks for the intro',
      );
      const deleted = page().locator('#messages .message.deleted');
      await expect.poll(() => deleted.locator('.text').textContent()).toBe('This message was deleted');
      expect(await page().locator('#messages').textContent()).not.toContain('should not have sent');
    };
    await checkState();

    await page().reload();
    await page().locator('#connection[data-state="open"]').waitFor();
    await chatButton('chat_slides').click();
    await bubble('Here are the slides').waitFor();
    await checkState();
    expect(await bubble('Here are the slides').locator('.attachment-name').textContent()).toBe(
      'webhooks-at-scale.pdf',
    );
  });

  it('shows a banner while an account needs attention, and takes it down when it is OK again', async () => {
    await deliver(messageReceived({ account: linkedin, chatId: 'chat_banner', text: 'hello' }));
    await deliver(accountStatus(linkedin.id, 'CREDENTIALS', 'LINKEDIN'));
    await openInbox();

    const banner = page().locator('#account-alerts');
    const alert = banner.locator(`.account-alert[data-account-id="${linkedin.id}"]`);
    await alert.waitFor();
    expect(await alert.getAttribute('data-status')).toBe('CREDENTIALS');
    expect(await alert.textContent()).toContain('LinkedIn');
    expect(await alert.textContent()).toContain('sign in again');

    await deliver(accountStatus(linkedin.id, 'OK', 'LINKEDIN'));
    await banner.waitFor({ state: 'hidden' });
    expect(await banner.locator('.account-alert').count()).toBe(0);

    await deliver(accountStatus(whatsapp.id, 'STOPPED', 'WHATSAPP'));
    await banner.locator(`.account-alert[data-account-id="${whatsapp.id}"]`).waitFor();
    expect(await banner.textContent()).toContain('WhatsApp');
    await deliver(accountStatus(whatsapp.id, 'RECONNECTED', 'WHATSAPP'));
    await banner.waitFor({ state: 'hidden' });
  });
});
