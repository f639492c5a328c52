import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { queryRows } from '../../server/db/rows.js';
import { mintRealtimeToken } from '../../server/realtime/tokens.js';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { TEST_SECRETS, testConfig } from '../support/app.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';
import { postWebhook } from '../support/webhooks.js';

/** The inbox's composer in a real Chromium, against the real gateway and the fake provider. */
describeBrowser('replying from the inbox in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const account = fakeAccount('WHATSAPP');
  const gateway = useInboxGateway(db, {
    provider: { env: { SEND_TIMEOUT_MS: '5000', SEND_LEASE_MS: '10000' }, webhooks: true },
  });

  const openChat = async (chatId: string) => {
    await postWebhook(gateway.app, messageReceived({ account, chatId, text: 'Are you coming?' }));
    await gateway.open(browser.page, [account.id], { scopes: ['read', 'send'] });
    await browser.page.locator(`#chat-list button[data-chat-id="${chatId}"]`).click();
    await browser.page.locator('#messages .message', { hasText: 'Are you coming?' }).waitFor();
  };
  const reply = async (text: string) => {
    await browser.page.locator('#composer-text').fill(text);
    await browser.page.locator('#composer button[type="submit"]').click();
  };
  const mine = (text: string) => browser.page.locator('#messages .message.mine', { hasText: text });

  it('shows a reply at once, then sent, and once only after the echo', async () => {
    await openChat('chat_reply');
    await reply('On my way');
    await mine('On my way').waitFor();
    await expect.poll(() => mine('On my way').getAttribute('data-status')).toBe('sent');
    await expect
      .poll(() => gateway.fake.sends.sent.filter((message) => message.text === 'On my way').length)
      .toBe(1);
    const id = gateway.fake.sends.sent.find((message) => message.text === 'On my way')!.id;
    // The echo reached the gateway and was recognised as the same message.
    await expect
      .poll(async () => {
        const rows = await queryRows<{ n: string }>(
          gateway.app.database.db,
          sql`select count(*) as n from inbound_events where raw_body like ${`%${id}%`}`,
        );
        return Number(rows[0]?.n ?? 0);
      })
      .toBe(1);
    await expect.poll(() => mine('On my way').getAttribute('data-message-id')).toBe(id);
    expect(await mine('On my way').count()).toBe(1);
  });

  it('sends a picked file with the reply', async () => {
    await openChat('chat_file');
    const bytes = Buffer.from('%PDF-1.4 a small file');
    await browser.page
      .locator('#composer-files')
      .setInputFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: bytes });
    await reply('Here is the plan');
    await expect.poll(() => mine('Here is the plan').getAttribute('data-status')).toBe('sent');
    const request = gateway.fake.sends.received.find((entry) => entry.text === 'Here is the plan');
    expect(request?.attachments.map((file) => [file.filename, file.mimetype])).toEqual([
      ['plan.pdf', 'application/pdf'],
    ]);
    expect(request?.attachments[0]?.bytes.equals(bytes)).toBe(true);
    expect(await browser.page.locator('#composer-files').inputValue()).toBe('');
  });

  it('shows a refused reply as failed with a retry button that sends it', async () => {
    await openChat('chat_refused');
    gateway.fake.sends.next('refuse');
    await reply('This one bounces');
    await expect.poll(() => mine('This one bounces').getAttribute('data-status')).toBe('failed');
    await mine('This one bounces').locator('button.retry').click();
    await expect.poll(() => mine('This one bounces').getAttribute('data-status')).toBe('sent');
    expect(await mine('This one bounces').count()).toBe(1);
  });

  it('sends on Enter, and Shift+Enter starts a new line', async () => {
    await openChat('chat_enter');
    const box = browser.page.locator('#composer-text');
    await box.fill('');
    await box.type('first line');
    await box.press('Shift+Enter');
    await box.type('second line');
    expect(await box.inputValue()).toBe('first line\nsecond line');
    await box.press('Enter');
    await expect.poll(() => mine('second line').getAttribute('data-status')).toBe('sent');
    expect(await box.inputValue()).toBe('');
    expect(
      gateway.fake.sends.received.filter(
        (entry) => entry.text.replace(/\r\n/g, '\n') === 'first line\nsecond line',
      ),
    ).toHaveLength(1);
  });

  it("shows why a reply failed, in the provider's words, beside Retry", async () => {
    await openChat('chat_reason');
    gateway.fake.sends.next('refuse');
    await reply('Refused for a reason');
    const status = mine('Refused for a reason').locator('.send-status');
    await expect.poll(() => mine('Refused for a reason').getAttribute('data-status')).toBe('failed');
    // The fake refuses with the problem type errors/cant_send_message (a code, not prose).
    expect(await status.textContent()).toContain('cant_send_message');
    expect(await status.locator('button.retry').count()).toBe(1);
  });

  it('shows a 429 with Retry-After as a wait under the reply box, keeping the text', async () => {
    await openChat('chat_wait');
    // The gateway restarts with another REALTIME_JWT_SECRET: the page's token fails authentication,
    // and past AUTH_FAILURE_LIMIT (1 here) its address gets 429 with Retry-After.
    await gateway.app.close();
    await gateway.listen(() =>
      buildApp({
        config: testConfig({
          UNIPILE_DSN: gateway.fake.url,
          UNIPILE_API_KEY: gateway.fake.apiKey,
          AUTH_FAILURE_LIMIT: '1',
        }),
        secrets: { ...TEST_SECRETS, realtimeJwtSecret: 'another-secret-after-a-restart-000000000000' },
        database: db.current.database,
      }),
    );
    const { token } = await mintRealtimeToken(TEST_SECRETS.realtimeJwtSecret, [account.id], 3600, [
      'read',
      'send',
    ]);
    for (let n = 0; n < 2; n++) {
      await gateway.app.inject({
        method: 'GET',
        url: '/api/chats',
        headers: { authorization: `Bearer ${token}` },
      });
    }
    await reply('Wait for it');
    const line = browser.page.locator('#composer-status');
    await line.waitFor();
    expect(await line.textContent()).toMatch(/^Rate limited, try again in \d+ s$/);
    expect(await browser.page.locator('#composer-text').inputValue()).toBe('Wait for it');
    expect(await browser.page.locator('#notice').isHidden()).toBe(true);
  });
});
