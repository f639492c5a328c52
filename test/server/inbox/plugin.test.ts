import { describe, expect, it } from 'vitest';
import { useTestApp } from '../../support/app.js';

describe('the inbox page', () => {
  const t = useTestApp('postgres');

  it('serves the page with a no-referrer policy, so the token in its URL never leaks', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/?token=abc' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.body).toContain('<script type="module" src="/inbox.js">');
  });

  it('bundles the script for the browser on first request (no Node imports left)', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/inbox.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/javascript');
    expect(response.body).not.toMatch(/\brequire\(["']ws["']\)/);
    expect(response.body.length).toBeGreaterThan(1000);
  });

  it("serves the stylesheets as one: the page's first, the conversation's after", async () => {
    const response = await t.app.inject({ method: 'GET', url: '/inbox.css' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/css');
    const page = response.body.indexOf('.chat-list');
    const conversation = response.body.indexOf('.attachment');
    expect(page).toBeGreaterThanOrEqual(0);
    expect(conversation).toBeGreaterThan(page);
  });
});
