import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPostmasterFile } from '../../server/db/embedded/postmaster.js';
import { type FakeUnipile, startFakeUnipile } from '../../tools/fake-unipile/server.js';
import { requireTestDatabaseUrl } from '../support/databases.js';
import { runScript, type ScriptResult, startGatewayProcess, stopProcess } from '../support/processes.js';

/** Start-ups that must fail fast with one line naming the setting and its fix (docs/operations.md). */

/** Runs server/main.ts to its end; `stdin` closed, JSON logs, a DATA_DIR of its own. */
async function runGateway(env: Record<string, string>): Promise<ScriptResult & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookline-startup-'));
  const result = await runScript('server/main.ts', [], {
    PATH: process.env.PATH ?? '',
    LOG_FORMAT: 'json',
    DATA_DIR: dataDir,
    ...env,
  });
  return { ...result, dataDir };
}

/** One line on stderr, with the code and the setting, and no stack trace anywhere. */
function expectOneLine(result: ScriptResult, code: string, setting: string): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`(${code})`);
  expect(lines[0]).toContain(`${setting}:`);
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at /);
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('server/main.ts start-up errors', () => {
  let taken: Server;
  let takenPort: number;
  let fake: FakeUnipile;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
    fake = await startFakeUnipile({ apiKey: 'the-right-key' });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    await fake.close();
  });

  it('refuses a PORT in use before starting the database, and leaves nothing running', async () => {
    const result = await runGateway({ PORT: String(takenPort), HOST: '127.0.0.1' });
    expectOneLine(result, 'HL_ERR_PORT_IN_USE', 'PORT');
    expect(await readPostmasterFile(join(result.dataDir, 'postgres'))).toBeUndefined();
  });

  it('names DATABASE_URL when the server refuses the connection', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/hookline`;
    const result = await runGateway({ PORT: '0', DATABASE_URL: url });
    expectOneLine(result, 'HL_ERR_DATABASE_UNREACHABLE', 'DATABASE_URL');
  });

  it('names DATABASE_URL when its database does not exist', async () => {
    const url = new URL(requireTestDatabaseUrl());
    url.pathname = `/hookline_missing_${process.pid}`;
    const result = await runGateway({ PORT: '0', DATABASE_URL: url.toString() });
    expectOneLine(result, 'HL_ERR_DATABASE_MISSING', 'DATABASE_URL');
    expect(result.stderr).toContain(`hookline_missing_${process.pid}`);
  });

  it('names DATA_DIR when it cannot be made', async () => {
    // A path under a regular file: no user, root included, can make it.
    const file = join(await mkdtemp(join(tmpdir(), 'hookline-file-')), 'not-a-directory');
    await writeFile(file, '');
    const result = await runGateway({ PORT: '0', DATA_DIR: join(file, 'data') });
    expectOneLine(result, 'HL_ERR_DATA_DIR', 'DATA_DIR');
  });

  it('refuses UNIPILE_DSN without UNIPILE_API_KEY', async () => {
    const result = await runGateway({ PORT: '0', UNIPILE_DSN: fake.url, UNIPILE_API_KEY: '' });
    expectOneLine(result, 'HL_ERR_PROVIDER_KEY_MISSING', 'UNIPILE_API_KEY');
    expect(await readPostmasterFile(join(result.dataDir, 'postgres'))).toBeUndefined();
  });

  it('refuses a UNIPILE_API_KEY the provider refuses, before starting the database', async () => {
    const result = await runGateway({ PORT: '0', UNIPILE_DSN: fake.url, UNIPILE_API_KEY: 'a-wrong-key' });
    expectOneLine(result, 'HL_ERR_PROVIDER_KEY_REFUSED', 'UNIPILE_API_KEY');
    expect(result.stderr).not.toContain('a-wrong-key');
    expect(await readPostmasterFile(join(result.dataDir, 'postgres'))).toBeUndefined();
  });
});

describe('server/main.ts listening', () => {
  it('says "listening" once, on every interface too', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hookline-once-'));
    const gateway = await startGatewayProcess(['--import', 'tsx', 'server/main.ts'], {
      env: { DATA_DIR: dataDir, HOST: '0.0.0.0' },
    });
    try {
      const lines = gateway.output().split('\n');
      expect(lines.filter((line) => /listening/i.test(line))).toHaveLength(1);
    } finally {
      expect(await stopProcess(gateway.child)).toBe(0);
    }
  }, 120_000);
});
