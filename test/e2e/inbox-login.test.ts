import { expect, it } from 'vitest';
import { apiAuth } from '../support/app.js';
import { describeBrowser, useBrowserPage } from '../support/browser.js';
import { useTestDatabase } from '../support/databases.js';
import { useInboxGateway } from '../support/inbox.js';

/**
 * The inbox login in a real Chromium: a single-use code in the link becomes a session the page
 * keeps (a reload stays signed in), the page shows when the session ends, a used link gets a
 * clear page, and a revoked session says so instead of reconnecting.
 */
describeBrowser('the inbox login in Chromium', () => {
  const db = useTestDatabase('postgres');
  const browser = useBrowserPage();
  const gateway = useInboxGateway(db);

  const loginLink = async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/api/realtime/login-codes',
      headers: apiAuth,
    });
    return new URL(new URL(response.json().url as string).search, gateway.baseUrl).toString();
  };

  it('exchanges the code once for a session, shows its end, and refuses the used link with a clear page', async () => {
    const link = await loginLink();
    await browser.page.goto(link);
    await browser.page.locator('#connection[data-state="open"]').waitFor();
    expect(new URL(browser.page.url()).searchParams.has('code')).toBe(false);
    expect(await browser.page.locator('#session-end').textContent()).toContain('Session ends');

    // A reload keeps the session (this tab holds it), though the code is spent.
    await browser.page.reload();
    await browser.page.locator('#connection[data-state="open"]').waitFor();

    await browser.page.goto(link);
    await browser.page.locator('#login-refused').waitFor();
    expect(await browser.page.locator('#login-refused').textContent()).toContain('already used');
    expect(await browser.page.locator('#login-refused').textContent()).toContain('npm run inbox-link');
  });

  it('stops and explains when its session is revoked', async () => {
    await browser.page.goto(await loginLink());
    await browser.page.locator('#connection[data-state="open"]').waitFor();
    const listed = await gateway.app.inject({
      method: 'GET',
      url: '/api/realtime/sessions',
      headers: apiAuth,
    });
    const login = (listed.json().items as { sessionId: string; origin: string }[]).find(
      (session) => session.origin === 'login',
    );
    for (const session of listed.json().items as { sessionId: string }[]) {
      await gateway.app.inject({
        method: 'DELETE',
        url: `/api/realtime/sessions/${session.sessionId}`,
        headers: apiAuth,
      });
    }
    expect(login).toBeDefined();
    await browser.page.locator('#connection[data-state="closed"]').waitFor();
    expect(await browser.page.locator('#notice').textContent()).toContain('revoked');
  });
});
