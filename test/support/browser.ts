import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, onTestFailed } from 'vitest';
import { testEnv } from './env.js';

/** Debian's Chromium: browser tests never download a browser of their own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable && !testEnv.ci) {
  process.stdout.write(
    `\n  ${CHROMIUM_PATH} not found: browser tests are skipped (apt-get install -y chromium).\n\n`,
  );
}

/** `describe` for browser tests: skipped on a laptop without Chromium, failing in CI without it. */
export const describeBrowser = describe.skipIf(!chromiumAvailable && !testEnv.ci);

/** Where screenshots of failed browser tests are kept. */
export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

/**
 * A headless Chromium for the enclosing describe (playwright gives each launch a fresh temporary
 * profile), and a fresh page (in a fresh context) per test.
 * A failed test leaves a screenshot in test-results/screenshots.
 */
export function useBrowserPage(): { readonly page: Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH))
      throw new Error(`${CHROMIUM_PATH} is required (CI installs it with apt-get)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  beforeEach(async (context) => {
    const browserContext = await browser!.newContext({ viewport: { width: 1100, height: 750 } });
    page = await browserContext.newPage();
    onTestFailed(async () => {
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const name = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
      await page?.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true }).catch(() => {});
    });
  });

  afterEach(async () => {
    await page?.context().close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  return {
    get page() {
      if (!page) throw new Error('the page is created in beforeEach');
      return page;
    },
  };
}
