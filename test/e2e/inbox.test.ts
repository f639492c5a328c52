import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { fakeAccount, followUp, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { buildTestApp } from '../support/app.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import {
  bundleInboxWithPackedClient,
  installPackedClient,
  type PackedClient,
} from '../support/client-package.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/** `promise`, or a failure naming `step` if it takes longer than `ms`. */
async function within<T>(ms: number, step: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${step} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The inbox page in a real Chromium against the real gateway. A second app instance
 * on the same database plays "the gateway while this one restarts". The page's script is built
 * on the packed @hookline/client (npm pack, installed as a host app would), not its sources.
 */
describeBrowser('the inbox page in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('LINKEDIN');
  const gateway = useInboxGateway(db);
  const openInbox = (ttlSeconds = 3600) => gateway.open(browser.page, [account.id], { ttlSeconds });
  const chatButton = (chatId: string) => browser.page.locator(`#chat-list button[data-chat-id="${chatId}"]`);
  const send = (chatId: string, text: string, at?: Date) =>
    postWebhook(gateway.app, messageReceived({ account, chatId, text, ...(at ? { timestamp: at } : {}) }));

  let packed: PackedClient | undefined;
  let inboxScript = '';

  beforeAll(async () => {
    packed = await installPackedClient();
    inboxScript = await bundleInboxWithPackedClient(packed);
  }, 300_000);
  beforeEach(async () => {
    await browser.page.route('**/inbox.js', (route) =>
      route.fulfill({ contentType: 'text/javascript; charset=utf-8', body: inboxScript }),
    );
  });
  afterAll(async () => {
    if (packed) await rm(packed.root, { recursive: true, force: true });
  });

  it('shows a webhook as it arrives, and appends to the open chat live', async () => {
    await openInbox();
    await send('chat_live', 'first hello');
    await expect.poll(() => chatButton('chat_live').textContent()).toContain('first hello');
    await chatButton('chat_live').click();
    await browser.page.locator('#messages .message', { hasText: 'first hello' }).waitFor();

    await send('chat_live', 'second, while open');
    await browser.page.locator('#messages .message', { hasText: 'second, while open' }).waitFor();
    await expect.poll(() => browser.page.locator('#messages .message').count()).toBe(2);
  });

  it('reorders chats by last message and counts unread messages', async () => {
    await openInbox();
    await send('chat_a', 'a1', new Date(Date.UTC(2030, 0, 1, 10)));
    await send('chat_b', 'b1', new Date(Date.UTC(2030, 0, 1, 11)));
    const order = () =>
      browser.page
        .locator('#chat-list button')
        .evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.chatId));
    await expect.poll(order).toEqual(expect.arrayContaining(['chat_b', 'chat_a']));
    expect((await order()).indexOf('chat_b')).toBeLessThan((await order()).indexOf('chat_a'));

    await send('chat_a', 'a2', new Date(Date.UTC(2030, 0, 1, 12)));
    await expect.poll(async () => (await order()).indexOf('chat_a')).toBe(0);
    await expect.poll(() => chatButton('chat_a').locator('.badge').textContent()).toBe('2');

    await chatButton('chat_a').click();
    await expect.poll(() => chatButton('chat_a').locator('.badge').count()).toBe(0);
  });

  it('follows an edit and a deletion of a chat’s last message in the chat list', async () => {
    await openInbox();
    const last = messageReceived({ account, chatId: 'chat_follow', text: 'tpyo' });
    await postWebhook(gateway.app, last);
    await expect.poll(() => chatButton('chat_follow').textContent()).toContain('tpyo');
    await postWebhook(gateway.app, followUp('message_edited', last, { message: 'typo fixed' }));
    await expect.poll(() => chatButton('chat_follow').textContent()).toContain('typo fixed');
    await postWebhook(gateway.app, followUp('message_deleted', last));
    await expect.poll(() => chatButton('chat_follow').textContent()).not.toContain('typo fixed');
  });

  it('shows reconnecting while the gateway restarts, then every message sent meanwhile exactly once', async () => {
    await openInbox();
    await send('chat_restart', 'before the restart');
    await chatButton('chat_restart').click();
    await browser.page.locator('#messages .message', { hasText: 'before the restart' }).waitFor();

    // Each step has its own bound, so that a slow run names the step that was slow instead of
    // failing on the test's overall timeout (it did once, in a full run, with nothing else to go on).
    await within(15_000, 'closing the gateway', gateway.app.close());
    await browser.page.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    const meanwhile = await within(15_000, 'starting the second instance', buildTestApp(db.current.database));
    for (let n = 1; n <= 5; n++) {
      expect(
        (
          await postWebhook(
            meanwhile,
            messageReceived({ account, chatId: 'chat_restart', text: `during ${n}` }),
          )
        ).statusCode,
      ).toBe(200);
    }
    await within(15_000, 'closing the second instance', meanwhile.close());
    await within(15_000, 'restarting the gateway', gateway.listen());

    await browser.page.locator('#connection[data-state="open"]').waitFor({ timeout: 20_000 });
    await browser.page.locator('#messages .message', { hasText: 'during 5' }).waitFor();
    const texts = await browser.page.locator('#messages .message .text').allTextContents();
    expect(texts).toEqual(['before the restart', 'during 1', 'during 2', 'during 3', 'during 4', 'during 5']);
    // The client's backoff doubles from 0.5 s while the gateway is down: if the restart takes a
    // few seconds on a loaded machine, the next attempt may be 8 to 16 s away, which, with the
    // 20 s wait for "open" above, does not fit the default 30 s. The full suite once timed out here.
  }, 60_000);

  it('explains an expired token instead of spinning', async () => {
    await browser.page.goto(await gateway.link([account.id], { ttlSeconds: -60 }));
    await browser.page.locator('#notice:not([hidden])').waitFor();
    expect(await browser.page.locator('#notice').textContent()).toContain('expired');
    expect(await browser.page.locator('#connection').getAttribute('data-state')).toBe('closed');
  });

  it('tells a visitor without a token how to get one', async () => {
    await browser.page.goto(gateway.baseUrl);
    expect(await browser.page.locator('#notice').textContent()).toContain('npm start');
  });
});
