import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { queryRows } from '../../server/db/rows.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { apiAuth } from '../support/app.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/** How many automatic resends an unconfirmed reply gets here (SEND_UNCONFIRMED_RESENDS). */
const RESENDS = 1;
/** SEND_RATE_PER_MINUTE here: a reply and its Retry fit in one session's minute, a third send does not. */
const RATE_PER_MINUTE = 2;

/**
 * Where provider trust (a send that ends `failed` with a `reason`), sessions with send budgets and
 * the inbox meet, in a real Chromium against the real gateway and the fake provider: an
 * unconfirmed reply fails with its reason and a Retry a person clicks, also after a reload; a send
 * past the session's budget shows the wait and stores nothing; a revoked session goes Offline.
 */
describeBrowser('provider trust, send budgets and sessions in the inbox', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('WHATSAPP');
  const gateway = useInboxGateway(db, {
    provider: {
      webhooks: true,
      env: {
        SEND_RETRY_MIN_MS: '50',
        SEND_LOOKUP_DELAY_MS: '100',
        SEND_TIMEOUT_MS: '5000',
        SEND_LEASE_MS: '10000',
        SEND_UNCONFIRMED_RESENDS: String(RESENDS),
        SEND_RATE_PER_MINUTE: String(RATE_PER_MINUTE),
      },
    },
  });

  const page = () => browser.page;
  const mine = (text: string) => page().locator('#messages .message.mine', { hasText: text });
  const postsOf = (text: string) => gateway.fake.sends.received.filter((entry) => entry.text === text).length;

  /** Opens the inbox on `link` and the chat `chatId` in it (a message from the contact opens it). */
  const openChat = async (link: string, chatId: string) => {
    await page().goto(link);
    await page().locator('#connection[data-state="open"]').waitFor();
    await page().locator(`#chat-list button[data-chat-id="${chatId}"]`).click();
    await page().locator('#messages .message', { hasText: 'Are you coming?' }).waitFor();
  };
  /** A session that may read and send for the account, as a host app mints it (its own send budget). */
  const newSession = async () => {
    const minted = await gateway.app.inject({
      method: 'POST',
      url: '/api/realtime/tokens',
      headers: apiAuth,
      payload: { accountIds: [account.id], scopes: ['read', 'send'] },
    });
    expect(minted.statusCode).toBe(200);
    const { token, sessionId } = minted.json() as { token: string; sessionId: string };
    return { link: `${gateway.baseUrl}/?token=${token}`, sessionId };
  };
  /** A chat with one message from the contact, and an inbox link of a new session. */
  const chatWithLink = async (chatId: string) => {
    await postWebhook(gateway.app, messageReceived({ account, chatId, text: 'Are you coming?' }));
    return (await newSession()).link;
  };
  const reply = async (text: string) => {
    await page().locator('#composer-text').fill(text);
    await page().locator('#composer button[type="submit"]').click();
  };
  /** The next replies are sent, yet answered without an id, never echoed and never listed. */
  const providerNeverConfirms = async (count: number) => {
    const response = await fetch(`${gateway.fake.url}/_fake/sends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'unlisted', count }),
    });
    expect(response.ok).toBe(true);
  };
  /** Waits for the reply `text` to show failed, and returns its status line. */
  const failedReply = async (text: string) => {
    await expect.poll(() => mine(text).getAttribute('data-status'), { timeout: 20_000 }).toBe('failed');
    return mine(text).locator('.send-status');
  };

  it('shows a reply the provider never confirms as failed with its reason, and Retry sends it again', async () => {
    await openChat(await chatWithLink('chat_unconfirmed'), 'chat_unconfirmed');
    await providerNeverConfirms(RESENDS + 1);
    await reply('Did this arrive?');
    const status = await failedReply('Did this arrive?');
    expect(await status.textContent()).toContain('the provider never confirmed it');
    expect(await status.locator('button.retry').count()).toBe(1);
    // Hookline stopped by itself: the first POST and its automatic resends, no more.
    const before = postsOf('Did this arrive?');
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThanOrEqual(RESENDS + 1);

    await status.locator('button.retry').click();
    await expect.poll(() => mine('Did this arrive?').getAttribute('data-status')).toBe('sent');
    expect(postsOf('Did this arrive?')).toBe(before + 1);
    expect(await mine('Did this arrive?').count()).toBe(1);
  });

  it('still shows the reason and Retry after a reload reads the chat from the read API', async () => {
    const link = await chatWithLink('chat_reload');
    await openChat(link, 'chat_reload');
    await providerNeverConfirms(RESENDS + 1);
    await reply('Still there?');
    await failedReply('Still there?');
    const read = await gateway.app.inject({
      method: 'GET',
      url: '/api/chats/chat_reload/messages',
      headers: apiAuth,
    });
    const stored = (read.json().items as { text: string; status?: string; reason?: string }[]).find(
      (message) => message.text === 'Still there?',
    );
    expect(stored).toMatchObject({ status: 'failed', reason: 'unconfirmed' });

    await openChat(link, 'chat_reload');
    const status = await failedReply('Still there?');
    expect(await status.textContent()).toContain('the provider never confirmed it');
    const before = postsOf('Still there?');
    await status.locator('button.retry').click();
    await expect.poll(() => mine('Still there?').getAttribute('data-status')).toBe('sent');
    expect(postsOf('Still there?')).toBe(before + 1);
  });

  it('sends a double-clicked Retry once, with neither an error nor a wait', async () => {
    await openChat(await chatWithLink('chat_double_retry'), 'chat_double_retry');
    await providerNeverConfirms(RESENDS + 1);
    await reply('Clicked twice');
    const status = await failedReply('Clicked twice');
    const before = postsOf('Clicked twice');
    await status.locator('button.retry').dblclick();
    await expect.poll(() => mine('Clicked twice').getAttribute('data-status')).toBe('sent');
    expect(postsOf('Clicked twice')).toBe(before + 1);
    expect(await page().locator('#notice').isHidden()).toBe(true);
    expect(await page().locator('#composer-status').isHidden()).toBe(true);
  });

  it("shows a send past the session's budget as a wait, keeps the text, and stores nothing", async () => {
    await openChat(await chatWithLink('chat_budget'), 'chat_budget');
    for (let n = 1; n <= RATE_PER_MINUTE; n++) {
      await reply(`within budget ${n}`);
      await expect.poll(() => mine(`within budget ${n}`).getAttribute('data-status')).toBe('sent');
    }
    const stored = async () => {
      const rows = await queryRows<{ sends: string; messages: string; requests: string }>(
        gateway.app.database.db,
        sql`select (select count(*) from sends) as sends,
          (select count(*) from messages where chat_id = 'chat_budget') as messages,
          (select count(*) from send_requests) as requests`,
      );
      return rows[0];
    };
    const before = await stored();

    await reply('one too many');
    const line = page().locator('#composer-status');
    await line.waitFor();
    expect(await line.textContent()).toMatch(/^Rate limited, try again in \d+ s$/);
    expect(await page().locator('#composer-text').inputValue()).toBe('one too many');
    expect(await page().locator('#notice').isHidden()).toBe(true);
    expect(await mine('one too many').count()).toBe(0);
    expect(await stored()).toEqual(before);
    expect(postsOf('one too many')).toBe(0);
  });

  it('answers a Retry past the budget with the wait, leaving the reply failed with its Retry', async () => {
    await openChat(await chatWithLink('chat_retry_budget'), 'chat_retry_budget');
    await providerNeverConfirms(RESENDS + 1);
    await reply('Maybe sent');
    const status = await failedReply('Maybe sent');
    // The session's second send spends its minute: the Retry would be its third.
    await reply('Spends the budget');
    await expect.poll(() => mine('Spends the budget').getAttribute('data-status')).toBe('sent');
    const before = postsOf('Maybe sent');

    await status.locator('button.retry').click();
    const line = page().locator('#composer-status');
    await line.waitFor();
    expect(await line.textContent()).toMatch(/^Rate limited, try again in \d+ s$/);
    expect(await page().locator('#notice').isHidden()).toBe(true);
    expect(await mine('Maybe sent').getAttribute('data-status')).toBe('failed');
    // Once the wait is over, the person may click it again.
    await expect.poll(() => status.locator('button.retry').isEnabled()).toBe(true);
    const rows = await queryRows<{ status: string }>(
      gateway.app.database.db,
      sql`select status from sends where text = 'Maybe sent'`,
    );
    expect(rows).toEqual([{ status: 'failed' }]);
    expect(postsOf('Maybe sent')).toBe(before);
  });

  it('goes Offline and says its session was revoked (close code 4003), pointing to npm run inbox-link', async () => {
    const { link, sessionId } = await newSession();
    // Records the close codes the page's sockets get.
    await page().addInitScript(() => {
      const codes: number[] = [];
      (globalThis as unknown as { closeCodes: number[] }).closeCodes = codes;
      const Native = globalThis.WebSocket;
      globalThis.WebSocket = class extends Native {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          this.addEventListener('close', (event) => codes.push(event.code));
        }
      };
    });
    await page().goto(link);
    await page().locator('#connection[data-state="open"]').waitFor();

    const revoked = await gateway.app.inject({
      method: 'DELETE',
      url: `/api/realtime/sessions/${sessionId}`,
      headers: apiAuth,
    });
    expect(revoked.statusCode).toBe(204);
    await page().locator('#connection[data-state="closed"]').waitFor();
    expect(await page().locator('#connection').textContent()).toContain('Offline');
    const notice = page().locator('#notice');
    await notice.locator('xpath=self::*[not(@hidden)]').waitFor();
    expect(await notice.textContent()).toContain('revoked');
    expect(await notice.textContent()).toContain('npm run inbox-link');
    expect(
      await page().evaluate(() => (globalThis as unknown as { closeCodes: number[] }).closeCodes),
    ).toContain(4003);
  });
});
