import { describe, expect, it } from 'vitest';
import { API_DOCS_PREFIX } from '../../../server/openapi/plugin.js';
import { useTestApp } from '../../support/app.js';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | string[] | number | undefined): Map<string, string[]> {
  return new Map(
    String(header ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name as string, sources]),
  );
}

describe('browser page headers', () => {
  const t = useTestApp('postgres', { env: { INBOX_CONNECT_ORIGINS: 'wss://ws.example.com' } });

  it('gives the inbox a CSP that connects only to itself and configured origins, never framed', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/' });
    const csp = directives(response.headers['content-security-policy']);
    expect(csp.get('connect-src')).toEqual(["'self'", 'wss://ws.example.com']);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('gives /docs a CSP, nosniff and frame-ancestors none', async () => {
    for (const url of [`${API_DOCS_PREFIX}/`, `${API_DOCS_PREFIX}/static/index.html`]) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBeLessThan(400);
      const csp = directives(response.headers['content-security-policy']);
      expect(csp.get('frame-ancestors'), url).toEqual(["'none'"]);
      expect(csp.get('default-src'), url).toEqual(["'self'"]);
      expect(csp.has('upgrade-insecure-requests'), url).toBe(false);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });
});
