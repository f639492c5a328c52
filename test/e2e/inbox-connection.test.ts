import { expect, it } from 'vitest';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/** The connection indicator: Reconnect now, a refused token, and the page's own assets. */
describeBrowser('the inbox connection in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('LINKEDIN');
  const gateway = useInboxGateway(db);

  const openInbox = () => gateway.open(browser.page, [account.id]);

  it('offers "Reconnect now" while waiting out the backoff, and connects at once when clicked', async () => {
    await postWebhook(gateway.app, messageReceived({ account, chatId: 'chat_reconnect', text: 'hello' }));
    await openInbox();
    await gateway.app.close();
    const button = browser.page.locator('#reconnect-now');
    // Failed attempts double the wait: stop once it is long enough that only the button explains a quick return.
    await expect
      .poll(
        async () =>
          Number((await browser.page.locator('#connection').textContent())?.match(/in (\d+) s/)?.[1] ?? 0),
        {
          timeout: 30_000,
        },
      )
      .toBeGreaterThanOrEqual(4);
    expect(await button.isVisible()).toBe(true);
    await gateway.listen();
    await button.click();
    await browser.page.locator('#connection[data-state="open"]').waitFor({ timeout: 3000 });
    expect(await button.isHidden()).toBe(true);
  }, 60_000);

  it('shows Offline with the reason for a token the gateway refuses, instead of reconnecting forever', async () => {
    await browser.page.goto(
      await gateway.link([account.id], { secret: 'not-the-gateway-secret-000000000000000000' }),
    );
    await browser.page.locator('#connection[data-state="closed"]').waitFor();
    expect(await browser.page.locator('#connection').textContent()).toContain('token refused');
    await browser.page.locator('#notice:not([hidden])').waitFor();
    expect(await browser.page.locator('#reconnect-now').isHidden()).toBe(true);
  });

  it('has a favicon: no request of the page fails', async () => {
    const failed: string[] = [];
    browser.page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await openInbox();
    expect(await browser.page.locator('link[rel="icon"]').count()).toBe(1);
    expect(failed).toEqual([]);
  });

  it('keeps the tab title free of a count when nothing is unread, and counts unread chats', async () => {
    // An account of its own: the other tests leave unread chats behind on the shared one.
    const quiet = fakeAccount('WHATSAPP');
    await gateway.open(browser.page, [quiet.id]);
    expect(await browser.page.title()).toBe('Hookline inbox');
    await postWebhook(gateway.app, messageReceived({ account: quiet, chatId: 'chat_title', text: 'new' }));
    await expect.poll(() => browser.page.title()).toBe('(1) Hookline inbox');
  });

  it('blames an unreachable gateway, not the token, for a failed send, and drops the notice once live', async () => {
    await postWebhook(gateway.app, messageReceived({ account, chatId: 'chat_down', text: 'are you there?' }));
    await browser.page.goto(await gateway.link([account.id], { scopes: ['read', 'send'] }));
    await browser.page.locator('#chat-list button[data-chat-id="chat_down"]').click();
    await browser.page.locator('#messages .message', { hasText: 'are you there?' }).waitFor();
    await gateway.app.close();
    await browser.page.locator('#composer-text').fill('sent while down');
    await browser.page.locator('#composer-text').press('Enter');
    const notice = browser.page.locator('#notice');
    await notice.locator('xpath=self::*[not(@hidden)]').waitFor();
    expect(await notice.getAttribute('data-transient')).toBe('true');
    expect(await browser.page.locator('#composer-text').inputValue()).toBe('sent while down');
    await gateway.listen();
    // Reconnect now, unless the backoff got there first.
    await browser.page
      .locator('#reconnect-now:visible')
      .click({ timeout: 2000 })
      .catch(() => {});
    await browser.page.locator('#connection[data-state="open"]').waitFor({ timeout: 40_000 });
    await notice.waitFor({ state: 'hidden' });
  }, 60_000);
});
