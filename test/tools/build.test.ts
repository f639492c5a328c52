import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, run, startGatewayProcess, stopProcess } from '../support/processes.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What a production image does: `npm run build`, then a directory holding only package.json,
 * the lock, `npm ci --omit=dev` and the build, started with `node dist/server/main.js`. Nothing
 * of the source tree or of the development dependencies is reachable from there, so a runtime
 * import of either fails the start.
 */
describe('the production build (npm run build, npm ci --omit=dev, node dist/server/main.js)', () => {
  let app: string;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'hookline-build-'));
    // A deployment directory others may pass through: as root, the embedded Postgres runs as
    // 'postgres', which must reach its binaries and data (mkdtemp makes 0700).
    await chmod(app, 0o711);
    await run(process.execPath, ['--import', 'tsx', 'tools/build.ts', '--out-dir', join(app, 'dist')]);
    for (const file of ['package.json', 'package-lock.json']) await cp(file, join(app, file));
    // --prefer-offline: the packages are in npm's cache since the project's own install.
    await run(npm, ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: app,
    });
    gateway = await startGatewayProcess(['--enable-source-maps', 'dist/server/main.js'], {
      cwd: app,
      env: { DATA_DIR: join(app, 'data') },
    });
  }, 600_000);

  afterAll(async () => {
    if (gateway) await stopProcess(gateway.child);
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('serves /healthz', async () => {
    const response = await fetch(`${gateway?.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it('serves /openapi.json and the API reference page', async () => {
    const document = await fetch(`${gateway?.url}/openapi.json`);
    expect(document.status).toBe(200);
    expect(((await document.json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect((await fetch(`${gateway?.url}/docs/`)).status).toBe(200);
  });

  it('serves the inbox page and the script the build bundled', async () => {
    const page = await fetch(`${gateway?.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('inbox.js');
    const script = await fetch(`${gateway?.url}/inbox.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
  });

  it('exits 0 on SIGTERM', async () => {
    const started = gateway;
    gateway = undefined;
    expect(started && (await stopProcess(started.child))).toBe(0);
    expect(started?.output()).toContain('shut down cleanly');
  });
});
