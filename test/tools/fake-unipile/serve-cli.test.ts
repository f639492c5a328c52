import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../support/processes.js';

describe('npm run dev:provider', () => {
  it('serves the fake API, prints how to point the gateway at it, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tools/fake-unipile/serve-cli.ts', '--port', '0', '--api-key', 'cli-key'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 20 s:\n${output}`)), 20_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1] && output.includes('npm start')) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect(output).toContain(`UNIPILE_DSN=${url} UNIPILE_API_KEY=cli-key WEBHOOK_BASE_URL=`);
    const response = await fetch(`${url}/api/v1/webhooks`, { headers: { 'x-api-key': 'cli-key' } });
    expect(await response.json()).toEqual({ object: 'WebhookList', items: [], cursor: null });

    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});

describe('npm run dev:provider on a port in use', () => {
  it('says so in one line naming --port, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const { code, stderr } = await runScript('tools/fake-unipile/serve-cli.ts', ['--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain('--port:');
      expect(stderr).toContain('(HL_ERR_PORT_IN_USE)');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
