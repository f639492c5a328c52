import { execFile } from 'node:child_process';
import { chmod, chown, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { HooklineError } from '../../errors.js';

const run = promisify(execFile);

/** The user the server runs as: empty (this process's own) unless this process is root. */
export interface ServerUser {
  uid?: number;
  gid?: number;
}

/** Postgres refuses to run as root; as root the server runs as this dedicated user instead. */
export const SERVER_USER_NAME = 'postgres';

/**
 * The user to run the server as. As root: the `postgres` user, created (a system account with no
 * login shell and no home) when missing. Otherwise this process's own user.
 */
export async function serverUser(): Promise<ServerUser> {
  if (userInfo().uid !== 0) return {};
  const existing = await lookup();
  if (existing) return existing;
  try {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      SERVER_USER_NAME,
    ]);
  } catch (error) {
    // Another process may have created it at the same moment; only a still-missing user fails.
    if (!(await lookup())) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `Running as root, and the '${SERVER_USER_NAME}' user for the embedded Postgres could not be created: create it, run as another user, or set DATABASE_URL`,
        { cause: error },
      );
    }
  }
  const created = await lookup();
  if (!created) throw new HooklineError('HL_ERR_CONFIG', `The '${SERVER_USER_NAME}' user was not created`);
  return created;
}

async function lookup(): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', SERVER_USER_NAME]),
      run('id', ['-g', SERVER_USER_NAME]),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** Gives `path` to the server user (a no-op when that is this process's own user). */
export async function handOver(path: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  await chown(path, user.uid, user.gid);
}

/**
 * Lets the server user pass through `directory` (DATA_DIR, kept 0700 for the secrets file) to
 * reach its own folder inside: adds search permission only, never listing or reading.
 */
export async function letServerUserThrough(directory: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined) return;
  const { mode } = await stat(directory);
  if ((mode & 0o001) === 0) await chmod(directory, (mode & 0o7777) | 0o001);
}

/**
 * Fails with a clear `HL_ERR_CONFIG` when the server user cannot pass through every existing
 * directory above `path` (a checkout under root's 0700 home, say), instead of initdb's bare EACCES. Checks
 * the owner, group and other search bits the way the kernel does, ignoring ACLs.
 */
export async function assertServerUserCanReach(path: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined) return;
  for (let directory = dirname(path); ; directory = dirname(directory)) {
    const found = await stat(directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined; // made later, by Hookline, passable
      throw error;
    });
    if (dirname(directory) === directory && !found) return;
    if (!found) continue;
    const { mode, uid, gid } = found;
    const bit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `Running as root, the embedded Postgres runs as '${SERVER_USER_NAME}', which cannot pass through ${directory} (mode ${(mode & 0o777).toString(8)}) to reach ${path}: run Hookline from a directory that user can reach (chmod o+x ${directory}), run as another user, or set DATABASE_URL`,
      );
    }
    if (dirname(directory) === directory) return;
  }
}
