import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAccount, messageReceived } from '../../tools/fake-unipile/payloads.js';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { buildTestApp, TEST_SECRETS } from '../support/app.js';
import { useTestDatabase } from '../support/databases.js';
import { runScript, type ScriptResult } from '../support/processes.js';

/** Runs `npm run sync` (tools/sync-cli.ts) to its end with the test API token. */
async function runSync(args: string[]): Promise<ScriptResult> {
  return runScript('tools/sync-cli.ts', args, {
    PATH: process.env.PATH ?? '',
    API_TOKEN: TEST_SECRETS.apiToken,
    DATA_DIR: await mkdtemp(join(tmpdir(), 'hookline-sync-cli-')),
  });
}

describe('npm run sync', () => {
  const db = useTestDatabase();
  let fake: FakeUnipile;
  let app: FastifyInstance;
  let url: string;
  const account = fakeAccount();

  beforeAll(async () => {
    fake = await startFakeUnipile();
    for (let minute = 1; minute <= 5; minute += 1) {
      fake.history.record(
        messageReceived({
          account,
          messageId: `msg_cli_${minute}`,
          timestamp: new Date(Date.now() - minute * 60_000),
        }),
      );
    }
    app = await buildTestApp(db.current.database, {
      env: {
        UNIPILE_DSN: fake.url,
        UNIPILE_API_KEY: fake.apiKey,
        UNIPILE_SYNC_INTERVAL_SECONDS: '0',
        UNIPILE_SYNC_PAGE_SIZE: '2',
      },
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('prints its options for --help', async () => {
    const result = await runSync(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--account');
  });

  it('refuses an unknown option in one line', async () => {
    const result = await runSync(['--acount', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('(HL_ERR_CONFIG)');
  });

  it('says in one line that no gateway answers, and where', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runSync(['--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('(HL_ERR_UNAVAILABLE)');
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
  });

  it("passes on the gateway's refusal with its code, in one line", async () => {
    const result = await runSync(['--url', url, '--account', account.id, '--since', 'yesterday']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('(HL_ERR_INVALID_REQUEST)');
  });

  it('shows pages as they are read and closes with the totals, elapsed time and rate', async () => {
    const result = await runSync(['--url', url, '--account', account.id]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^sync done: 5 messages in 3 pages \(5 new, .*\) in \d+\.\d s, \d+ messages\/s$/,
    );
  });
});
