import { chmod, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Takes group and world access away from everything under `dir`: PGlite creates its files 0666
 * whatever the process umask. Run when the embedded database opens and when it closes; files it
 * creates in between sit in this owner-only (0700) directory, so nobody else can reach them.
 */
export async function restrictTreeToOwner(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true });
  await Promise.all(
    [dir, ...entries.map((entry) => join(dir, entry))].map(async (path) => {
      const { mode } = await stat(path).catch(() => ({ mode: 0 }));
      if ((mode & 0o077) !== 0) await chmod(path, mode & 0o700).catch(() => {});
    }),
  );
}
