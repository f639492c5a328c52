import { readFile, unlink, writeFile } from 'node:fs/promises';
import { HooklineError } from '../errors.js';

/**
 * PGlite is a single-process database: two gateways opening one directory would corrupt it. A
 * lock file holding the owner's pid refuses the second one; a lock left by a dead process (kill -9)
 * is taken over.
 *
 * @returns a function that releases the lock.
 */
export async function acquireDataDirLock(lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(lockPath).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `The embedded database at ${lockPath.replace(/\.lock$/, '')} is in use by process ${owner}: stop it, or set another DATA_DIR`,
      );
    }
    await unlink(lockPath).catch(() => {});
  }
  throw new HooklineError('HL_ERR_CONFIG', `Could not lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
