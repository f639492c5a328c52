import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountStatus,
  fakeAccount,
  fakeAttendee,
  messageReceived,
} from '../../tools/fake-unipile/payloads.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/**
 * The inbox at a phone's width (390×844) and a laptop's (1280×800): nothing scrolls sideways in
 * any view, before or after sending; the reply box and Send stay on screen; account banners take
 * one line and can be dismissed.
 */
describeBrowser('the inbox layout in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('LINKEDIN');
  const second = fakeAccount('WHATSAPP');
  const gateway = useInboxGateway(db, { provider: { webhooks: true } });

  beforeAll(async () => {
    const long = `${'A really long line without spaces '.repeat(3)}${'x'.repeat(180)} https://example.com/${'path/'.repeat(30)}`;
    const sender = fakeAttendee('LINKEDIN', 'Maximilian Alexander Featherstonehaugh-Worthington');
    for (const text of ['Hello there', long, 'Can we talk tomorrow about the proposal?']) {
      await postWebhook(gateway.app, messageReceived({ account, chatId: 'chat_layout', text, sender }));
    }
    await postWebhook(gateway.app, messageReceived({ account: second, chatId: 'chat_other', text: 'hi' }));
    await postWebhook(gateway.app, accountStatus(account.id, 'CREDENTIALS', 'LINKEDIN'));
    await postWebhook(gateway.app, accountStatus(second.id, 'STOPPED', 'WHATSAPP'));
  });

  const page = () => browser.page;
  /** The document is no wider than the viewport: nothing can be scrolled sideways. */
  const noSidewaysScroll = async () => {
    const widths = await page().evaluate(() => ({
      document: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      viewport: window.innerWidth,
    }));
    expect(widths.document).toBeLessThanOrEqual(widths.viewport);
    expect(widths.body).toBeLessThanOrEqual(widths.viewport);
  };
  /** `selector`'s box lies entirely within the viewport. */
  const inView = async (selector: string) => {
    const box = await page().locator(selector).boundingBox();
    const viewport = page().viewportSize()!;
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(viewport.width);
    expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
  };

  describe.each([
    { width: 390, height: 844 },
    { width: 1280, height: 800 },
  ])('at $width×$height', (size) => {
    it('never scrolls sideways, keeps the reply box and Send in view, before and after sending', async () => {
      await page().setViewportSize(size);
      await gateway.open(page(), [account.id, second.id], { scopes: ['read', 'send'] });
      await page().locator('#chat-list button[data-chat-id="chat_layout"]').waitFor();
      await noSidewaysScroll();

      await page().locator('#chat-list button[data-chat-id="chat_layout"]').click();
      await page().locator('#messages .message', { hasText: 'proposal' }).waitFor();
      await noSidewaysScroll();
      await inView('#composer-text');
      await inView('#composer button[type="submit"]');
      await inView('#chat-title');
      if (size.width < 640) await inView('#back');

      const reply = `Sure, tomorrow at ten ${size.width}`;
      await page().locator('#composer-text').fill(reply);
      await page().locator('#composer button[type="submit"]').click();
      const mine = page().locator('#messages .message.mine', { hasText: reply });
      await expect.poll(() => mine.getAttribute('data-status')).toBe('sent');
      await noSidewaysScroll();
      await inView('#composer button[type="submit"]');
      await inView('#chat-title');
      if (size.width < 640) await inView('#back');
      const bubble = await mine.boundingBox();
      expect(bubble!.x + bubble!.width).toBeLessThanOrEqual(size.width);
      expect(await page().evaluate(() => window.scrollX)).toBe(0);
    });

    it('shows the accounts needing attention on one line, until dismissed', async () => {
      await page().setViewportSize(size);
      await page().goto(await gateway.link([account.id, second.id]));
      const banner = page().locator('#account-alerts');
      await banner.waitFor();
      const lineHeight = await banner
        .locator('.account-alert')
        .first()
        .evaluate((node) => {
          const style = getComputedStyle(node);
          return Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.3;
        });
      const box = await banner.boundingBox();
      // One line of text, its padding and the dismiss button: well under two lines.
      expect(box!.height).toBeLessThan(lineHeight * 2 + 12);
      expect(await page().locator('#account-alerts-more').textContent()).toBe('+1 more');
      await noSidewaysScroll();
      await page().locator('#account-alerts-dismiss').click();
      await banner.waitFor({ state: 'hidden' });
    });
  });
});
