import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertServerUserCanReach } from '../../../../server/db/embedded/server-user.js';

describe('assertServerUserCanReach', () => {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  /** A user that owns nothing here and belongs to no group here. */
  const stranger = { uid: 2_000_123, gid: 2_000_123 };

  it('names a directory above the path that the server user cannot pass through', async () => {
    const top = await mkdtemp(join(tmpdir(), 'hookline-reach-'));
    made.push(top);
    await chmod(top, 0o700);
    await mkdir(join(top, 'app'), { mode: 0o755 });
    await expect(assertServerUserCanReach(join(top, 'app', 'data'), stranger)).rejects.toMatchObject({
      code: 'HL_ERR_CONFIG',
    });
  });

  it('passes once every directory above is searchable, and skips those not made yet', async () => {
    const top = await mkdtemp(join(tmpdir(), 'hookline-reach-'));
    made.push(top);
    await chmod(top, 0o711);
    await expect(
      assertServerUserCanReach(join(top, 'not-yet', 'data', 'postgres'), stranger),
    ).resolves.toBeUndefined();
  });

  it('checks nothing when the server runs as this process’s own user', async () => {
    await expect(assertServerUserCanReach('/root/anything', {})).resolves.toBeUndefined();
  });
});
