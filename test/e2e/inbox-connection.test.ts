import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { buildTestApp, TEST_SECRETS } from '../support/app.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { postWebhook } from '../support/webhooks.js';

/** The connection indicator: Reconnect now, a refused token, and the page's own assets. */
describeBrowser('the inbox connection in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('LINKEDIN');
  let app: FastifyInstance;
  let port = 0;
  let baseUrl = '';

  const listen = async () => {
    app = await buildTestApp(db.current.database);
    baseUrl = await app.listen({ port, host: '127.0.0.1' });
    port = Number(new URL(baseUrl).port);
  };
  beforeAll(listen);
  afterAll(async () => {
    await app?.close();
  });

  const openInbox = async () => {
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, [account.id], 3600);
    await browser.page.goto(`${baseUrl}/?token=${token}`);
    await browser.page.locator('#connection[data-state="open"]').waitFor();
  };

  it('offers "Reconnect now" while waiting out the backoff, and connects at once when clicked', async () => {
    await postWebhook(app, messageReceived({ account, chatId: 'chat_reconnect', text: 'hello' }));
    await openInbox();
    await app.close();
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
    await listen();
    await button.click();
    await browser.page.locator('#connection[data-state="open"]').waitFor({ timeout: 3000 });
    expect(await button.isHidden()).toBe(true);
  }, 60_000);

  it('shows Offline with the reason for a token the gateway refuses, instead of reconnecting forever', async () => {
    const { token } = await mintRealtimeToken(
      'not-the-gateway-secret-000000000000000000',
      [account.id],
      3600,
    );
    await browser.page.goto(`${baseUrl}/?token=${token}`);
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
    await openInbox();
    const before = await browser.page.title();
    await postWebhook(app, messageReceived({ account, chatId: 'chat_title', text: 'new' }));
    await expect.poll(() => browser.page.title()).toMatch(/^\(\d+\) Hookline inbox$/);
    expect(before).not.toBe(await browser.page.title());
  });

  it('blames an unreachable gateway, not the token, for a failed send, and drops the notice once live', async () => {
    await postWebhook(app, messageReceived({ account, chatId: 'chat_down', text: 'are you there?' }));
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, [account.id], 3600, [
      'read',
      'send',
    ]);
    await browser.page.goto(`${baseUrl}/?token=${token}`);
    await browser.page.locator('#chat-list button[data-chat-id="chat_down"]').click();
    await browser.page.locator('#messages .message', { hasText: 'are you there?' }).waitFor();
    await app.close();
    await browser.page.locator('#composer-text').fill('sent while down');
    await browser.page.locator('#composer-text').press('Enter');
    const notice = browser.page.locator('#notice');
    await notice.locator('xpath=self::*[not(@hidden)]').waitFor();
    expect(await notice.getAttribute('data-transient')).toBe('true');
    expect(await browser.page.locator('#composer-text').inputValue()).toBe('sent while down');
    await listen();
    // Reconnect now, unless the backoff got there first.
    await browser.page
      .locator('#reconnect-now:visible')
      .click({ timeout: 2000 })
      .catch(() => {});
    await browser.page.locator('#connection[data-state="open"]').waitFor({ timeout: 40_000 });
    await notice.waitFor({ state: 'hidden' });
  }, 60_000);
});
