import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/config.js';
import { ensureOwnerOnlyDir, resolveSecrets } from '../../server/secrets.js';

const freshDataDir = () => mkdtemp(join(tmpdir(), 'hookline-secrets-'));

describe('resolveSecrets', () => {
  it('generates every secret on first start into an owner-only file', async () => {
    const dataDir = join(await freshDataDir(), 'nested');
    const resolved = await resolveSecrets(parseConfig({ DATA_DIR: dataDir }));
    expect(resolved.generated.sort()).toEqual([
      'API_TOKEN',
      'ENCRYPTION_KEY',
      'INBOUND_SECRET',
      'REALTIME_JWT_SECRET',
    ]);
    expect(resolved.secrets.encryptionKey).toHaveLength(32);
    expect((await stat(resolved.file)).mode & 0o777).toBe(0o600);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
  });

  it('reuses the same secrets on restart', async () => {
    const config = parseConfig({ DATA_DIR: await freshDataDir() });
    const first = await resolveSecrets(config);
    const second = await resolveSecrets(config);
    expect(second.generated).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
  });

  it('prefers the operator’s values and generates only the rest', async () => {
    const config = parseConfig({ DATA_DIR: await freshDataDir(), API_TOKEN: 'operator-token-123456' });
    const resolved = await resolveSecrets(config);
    expect(resolved.secrets.apiToken).toBe('operator-token-123456');
    expect(resolved.generated).not.toContain('API_TOKEN');
    const stored = JSON.parse(await readFile(resolved.file, 'utf8'));
    expect(stored).not.toHaveProperty('API_TOKEN');
  });

  it('agrees on one set when two processes start at once on a fresh DATA_DIR', async () => {
    const config = parseConfig({ DATA_DIR: await freshDataDir() });
    const [a, b] = await Promise.all([resolveSecrets(config), resolveSecrets(config)]);
    expect(a.secrets).toEqual(b.secrets);
  });

  it('tightens a secrets file someone made world-readable', async () => {
    const dataDir = await freshDataDir();
    const file = join(dataDir, 'secrets.json');
    await writeFile(file, JSON.stringify({ API_TOKEN: 'x'.repeat(20) }), { mode: 0o644 });
    const resolved = await resolveSecrets(parseConfig({ DATA_DIR: dataDir }));
    expect(resolved.secrets.apiToken).toBe('x'.repeat(20));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('fails with HL_ERR_CONFIG on a corrupt secrets file', async () => {
    const dataDir = await freshDataDir();
    await writeFile(join(dataDir, 'secrets.json'), '{not json', { mode: 0o600 });
    await expect(resolveSecrets(parseConfig({ DATA_DIR: dataDir }))).rejects.toMatchObject({
      code: 'HL_ERR_CONFIG',
    });
  });
});

describe('ensureOwnerOnlyDir', () => {
  it('creates DATA_DIR 0700 and takes group and world access away from an existing one', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'hookline-dir-'));
    const fresh = join(parent, 'fresh', 'data');
    await ensureOwnerOnlyDir(fresh);
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);

    const loose = join(parent, 'loose');
    await mkdir(loose);
    await chmod(loose, 0o755);
    await ensureOwnerOnlyDir(loose);
    expect((await stat(loose)).mode & 0o777).toBe(0o700);
  });

  it('is applied to an existing DATA_DIR when secrets are generated into it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'hookline-loose-'));
    await chmod(dataDir, 0o777);
    await resolveSecrets(parseConfig({ DATA_DIR: dataDir }));
    expect((await stat(dataDir)).mode & 0o077).toBe(0);
  });
});
