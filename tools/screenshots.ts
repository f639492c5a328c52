/**
 * `npm run screenshots`: regenerates the inbox screenshots in docs/screenshots/ (docs/client.md).
 * It starts the gateway on a scratch database (cloned from the test template on
 * SCREENSHOT_DATABASE_URL's server, default the local Postgres) and the fake provider, fills the
 * inbox with a few conversations (a photo, a read reply, unread chats, an account needing
 * attention), and photographs it in Debian's Chromium at 1280×800 and 390×844.
 */
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildApp } from '../server/app.js';
import { openDatabase } from '../server/db/database.js';
import { mintDevRealtimeToken } from '../server/realtime/tokens.js';
import { TEST_SECRETS, testConfig } from '../test/support/app.js';
import { CHROMIUM_PATH } from '../test/support/browser.js';
import { createPostgresTestDatabase, ensurePostgresTemplate } from '../test/support/postgres-admin.js';
import { placeholderPng } from './fake-unipile/files.js';
import {
  accountStatus,
  fakeAccount,
  fakeAttachment,
  fakeAttendee,
  followUp,
  messageReceived,
} from './fake-unipile/payloads.js';
import { startFakeUnipile } from './fake-unipile/server.js';

const SERVER_URL = process.env.SCREENSHOT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const OUT = join(process.cwd(), 'docs', 'screenshots');
const SECRETS = TEST_SECRETS;

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function main() {
  const created = await createPostgresTestDatabase(SERVER_URL, await ensurePostgresTemplate(SERVER_URL));
  const database = await openDatabase({ kind: 'postgres', url: created.url, poolSize: 4 });
  const fake = await startFakeUnipile({ delivery: { retries: 0 } });
  const app = await buildApp({
    config: testConfig({ UNIPILE_DSN: fake.url, UNIPILE_API_KEY: fake.apiKey, SEND_POLL_INTERVAL_MS: '100' }),
    secrets: SECRETS,
    database,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox'],
  });
  try {
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    fake.addWebhook({
      request_url: `${baseUrl}/api/webhooks/unipile/messages`,
      headers: [{ key: 'Unipile-Auth', value: SECRETS.inboundSecret }],
    });
    fake.addWebhook({
      source: 'account_status',
      request_url: `${baseUrl}/api/webhooks/unipile/messages`,
      headers: [{ key: 'Unipile-Auth', value: SECRETS.inboundSecret }],
    });
    const linkedin = fakeAccount('LINKEDIN');
    const whatsapp = fakeAccount('WHATSAPP');
    const priya = fakeAttendee('LINKEDIN', 'Priyanka Shah');
    const family = [fakeAttendee('WHATSAPP', 'Hélène Martin'), fakeAttendee('WHATSAPP', 'Léa Martin')];
    const photo = fakeAttachment({ id: 'att_beach', filename: 'beach.png', mimetype: 'image/png' });
    const say = (payload: Parameters<typeof fake.deliver>[0]) => fake.deliver(payload);

    await say(
      messageReceived({
        account: linkedin,
        chatId: 'chat_priya',
        sender: priya,
        timestamp: minutesAgo(50),
        text: 'Hi! Are you open to a chat about the staff engineer role?',
      }),
    );
    const reply = messageReceived({
      account: linkedin,
      chatId: 'chat_priya',
      fromAccount: true,
      timestamp: minutesAgo(45),
      text: 'Happy to. Thursday afternoon works for me.',
    });
    await say({ ...reply, is_sender: true });
    await say(followUp('message_delivered', reply));
    await say(followUp('message_read', reply));
    await say(
      messageReceived({
        account: linkedin,
        chatId: 'chat_priya',
        sender: priya,
        timestamp: minutesAgo(12),
        text: 'Perfect, I will send an invite for Thursday 3 pm. Could you share your latest CV before then?',
      }),
    );
    const holiday = messageReceived({
      account: whatsapp,
      chatId: 'chat_family',
      sender: family[0],
      attendees: family,
      subject: 'Family',
      timestamp: minutesAgo(8),
      text: 'Look where we are!',
      attachments: [photo],
    });
    fake.files.put(holiday.message_id, 'att_beach', {
      bytes: placeholderPng(320, 200, [56, 142, 214]),
      mimetype: 'image/png',
    });
    await say(holiday);
    await say(
      messageReceived({
        account: whatsapp,
        chatId: 'chat_family',
        sender: family[1],
        attendees: family,
        subject: 'Family',
        timestamp: minutesAgo(6),
        text: 'Who is coming for Sunday lunch?',
      }),
    );
    await say(
      messageReceived({
        account: whatsapp,
        chatId: 'chat_sam',
        sender: fakeAttendee('WHATSAPP', 'Sam Okafor'),
        timestamp: minutesAgo(3),
        text: 'Running 10 minutes late, sorry!',
      }),
    );
    await say(
      messageReceived({
        account: linkedin,
        chatId: 'chat_invoice',
        sender: fakeAttendee('LINKEDIN', 'Marta Novak'),
        timestamp: minutesAgo(600),
        text: 'The invoice for November is attached, let me know if anything is missing.',
      }),
    );
    await say(accountStatus(linkedin.id, 'CREDENTIALS', 'LINKEDIN'));

    const { token } = await mintDevRealtimeToken(SECRETS.realtimeJwtSecret, 3600);
    const shoot = async (
      name: string,
      viewport: { width: number; height: number },
      steps: (page: import('playwright-core').Page) => Promise<void>,
    ) => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`${baseUrl}/?token=${token}`);
      await page.locator('#connection[data-state="open"]').waitFor();
      await page.locator('#chat-list button').first().waitFor();
      await steps(page);
      await page.screenshot({ path: join(OUT, `${name}.png`) });
      await context.close();
      console.log(`  docs/screenshots/${name}.png`);
    };
    const openFamily = async (page: import('playwright-core').Page) => {
      await page.locator('#chat-list button[data-chat-id="chat_family"]').click();
      await page.locator('#messages img.attachment-thumb').waitFor();
      await page.waitForFunction(
        () =>
          (document.querySelector('#messages img.attachment-thumb') as HTMLImageElement)?.naturalWidth > 0,
      );
    };
    await shoot('inbox-desktop', { width: 1280, height: 800 }, async (page) => {
      await page.locator('#chat-list button[data-chat-id="chat_priya"]').click();
      await page.locator('#messages .message.mine[data-receipt="read"]').waitFor();
      await page.locator('#composer-text').fill('Sure, here it is.');
    });
    await shoot('inbox-desktop-search', { width: 1280, height: 800 }, async (page) => {
      await page.locator('#search-input').fill('invoice');
      await page.locator('#search-results .search-message').first().click();
      await page.locator('#messages .message', { hasText: 'invoice' }).waitFor();
    });
    await shoot('inbox-phone-list', { width: 390, height: 844 }, async () => {});
    await shoot('inbox-phone-chat', { width: 390, height: 844 }, openFamily);
  } finally {
    await browser.close();
    await app.close();
    await fake.close();
    await database.close();
    await created.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
