import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { placeholderPng } from '../../tools/fake-unipile/files.js';
import { fakeAccount, fakeAttachment, followUp, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { seedLongChat, seedManyChats } from '../support/inbox-seed.js';
import { postWebhook } from '../support/webhooks.js';

/**
 * What a person working in the inbox all day needs, in a real Chromium against the real gateway
 * and the fake provider: read state both ways, older history, more chats, search, files.
 */
describeBrowser('the inbox for a working day', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('WHATSAPP');
  const gateway = useInboxGateway(db, { provider: {} });

  const deliver = async (payload: unknown) =>
    expect((await postWebhook(gateway.app, payload)).statusCode).toBe(200);
  const open = (page: Page = browser.page) => gateway.open(page, [account.id], { scopes: ['read', 'send'] });
  const chatButton = (chatId: string, page: Page = browser.page) =>
    page.locator(`#chat-list button[data-chat-id="${chatId}"]`);

  it('marks an opened chat read at the provider, in every tab, and in the tab title', async () => {
    await deliver(messageReceived({ account, chatId: 'chat_two_tabs', text: 'one' }));
    await deliver(messageReceived({ account, chatId: 'chat_two_tabs', text: 'two' }));
    await open();
    const other = await browser.page.context().newPage();
    await open(other);
    await expect.poll(() => chatButton('chat_two_tabs', other).locator('.badge').textContent()).toBe('2');
    expect(await other.title()).toMatch(/^\(\d+\) /);

    await chatButton('chat_two_tabs').click();
    await expect.poll(() => gateway.fake.chatReads.marked()).toContain('chat_two_tabs');
    await expect.poll(() => chatButton('chat_two_tabs', other).locator('.badge').count()).toBe(0);
    expect(await other.title()).not.toContain('(2)');
    await other.close();
  });

  it("clears a badge when the provider says the chat was read elsewhere, and ticks an own message's receipts", async () => {
    const incoming = messageReceived({ account, chatId: 'chat_phone_read', text: 'seen on the phone' });
    await deliver(incoming);
    const own = messageReceived({ account, chatId: 'chat_ticks', text: 'my message', fromAccount: true });
    await deliver(own);
    await open();
    await expect.poll(() => chatButton('chat_phone_read').locator('.badge').textContent()).toBe('1');
    await deliver(followUp('message_read', incoming));
    await expect.poll(() => chatButton('chat_phone_read').locator('.badge').count()).toBe(0);

    await chatButton('chat_ticks').click();
    const bubble = browser.page.locator('#messages .message.mine', { hasText: 'my message' });
    await expect.poll(() => bubble.getAttribute('data-receipt')).toBe('sent');
    await deliver(followUp('message_delivered', own));
    await expect.poll(() => bubble.getAttribute('data-receipt')).toBe('delivered');
    await deliver(followUp('message_read', own));
    await expect.poll(() => bubble.getAttribute('data-receipt')).toBe('read');
  });

  it('loads older messages of a 10,000-message chat as the reader scrolls up, keeping their place', async () => {
    await seedLongChat(db.current.database, { accountId: account.id, chatId: 'chat_long', count: 10_000 });
    await open();
    await chatButton('chat_long').click();
    const messages = browser.page.locator('#messages');
    await messages.locator('.message', { hasText: /^Ada Lovelace.*message 10000$/ }).waitFor();
    const anchor = messages.locator('.message', { hasText: /message 9951$/ });
    await anchor.waitFor();
    const count = await messages.locator('.message').count();

    // Scroll to the top and note where the oldest shown message is, before the older page lands.
    const atTop = await messages.evaluate((list) => {
      list.scrollTop = 0;
      return [...list.querySelectorAll('.message')]
        .find((node) => node.textContent?.endsWith('message 9951'))!
        .getBoundingClientRect().top;
    });
    await expect.poll(() => messages.locator('.message').count()).toBeGreaterThan(count);
    await messages.locator('.message', { hasText: /message 9901$/ }).waitFor({ state: 'attached' });
    // The message the reader was looking at is where it was, not pushed down by the older page.
    const after = await anchor.evaluate((node) => node.getBoundingClientRect().top);
    expect(Math.abs(after - atTop)).toBeLessThan(2);
    expect(await messages.evaluate((list) => list.scrollTop)).toBeGreaterThan(0);
    const texts = await messages.locator('.message .text').allTextContents();
    expect(texts.indexOf('message 9901')).toBeLessThan(texts.indexOf('message 9951'));
  });

  it('loads more chats at the end of the list', async () => {
    await seedManyChats(db.current.database, { accountId: account.id, prefix: 'chat_bulk', count: 130 });
    await open();
    await chatButton('chat_bulk_130').waitFor();
    await expect.poll(() => chatButton('chat_bulk_1').count()).toBe(0);
    const pane = browser.page.locator('#chats-pane');
    await expect
      .poll(async () => {
        await pane.evaluate((node) => {
          node.scrollTop = node.scrollHeight;
        });
        return chatButton('chat_bulk_1').count();
      })
      .toBe(1);
    await chatButton('chat_bulk_1').waitFor({ state: 'attached' });
  });

  it('searches messages and people, marks the matched words, and opens the chat', async () => {
    await deliver(
      messageReceived({ account, chatId: 'chat_search', text: 'The quarterly invoice is attached' }),
    );
    await open();
    await browser.page.locator('#search-input').fill('invoice');
    const hit = browser.page.locator('#search-results .search-message[data-chat-id="chat_search"]');
    await hit.waitFor();
    expect(await hit.locator('mark').allTextContents()).toEqual(['invoice']);
    await hit.click();
    await browser.page.locator('#messages .message', { hasText: 'quarterly invoice' }).waitFor();
    await browser.page.locator('#search-input').fill('');
    await browser.page.locator('#chat-list').waitFor();
  });

  it('shows an image as a thumbnail and offers other files for download', async () => {
    const png = placeholderPng(40, 30, [220, 38, 38]);
    const message = messageReceived({
      account,
      chatId: 'chat_files',
      text: 'photo and plan',
      attachments: [
        fakeAttachment({ id: 'att_img', filename: 'red.png', mimetype: 'image/png', bytes: png.length }),
        fakeAttachment({
          id: 'att_doc',
          type: 'file',
          filename: 'plan.pdf',
          mimetype: 'application/pdf',
          bytes: 8,
        }),
      ],
    });
    gateway.fake.files.put(message.message_id, 'att_img', { bytes: png, mimetype: 'image/png' });
    gateway.fake.files.put(message.message_id, 'att_doc', {
      bytes: Buffer.from('%PDF-1.4'),
      mimetype: 'application/pdf',
    });
    await deliver(message);
    await open();
    await chatButton('chat_files').click();
    const bubble = browser.page.locator('#messages .message', { hasText: 'photo and plan' });
    const thumb = bubble.locator('.attachment[data-type="img"] img.attachment-thumb');
    await expect
      .poll(() => thumb.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth))
      .toBe(40);
    const [download] = await Promise.all([
      browser.page.waitForEvent('download'),
      bubble.locator('.attachment[data-type="file"] .attachment-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('plan.pdf');
  });
});
