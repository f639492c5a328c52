import { execFile } from 'node:child_process';
import { readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The superuser initdb creates; connections come through a socket only the server user can open. */
export const CLUSTER_SUPERUSER = 'postgres';
/** A fast shutdown (SIGINT) that has not finished by then becomes an immediate one (SIGQUIT). */
const STOP_TIMEOUT_MS = 30_000;

/** What a running server writes to `<data directory>/postmaster.pid`, one value a line. */
export interface PostmasterFile {
  pid: number;
  port: number;
  /** First Unix socket directory ('' when none). */
  socketDirectory: string;
  /** `starting`, `ready`, `stopping` or `standby`; '' while the server has not written it yet. */
  status: string;
}

/** Reads `postmaster.pid`, or undefined when there is none (no server, or a clean shutdown). */
export async function readPostmasterFile(directory: string): Promise<PostmasterFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return {
    pid,
    port: Number.parseInt(lines[3] ?? '', 10),
    socketDirectory: (lines[4] ?? '').trim(),
    status: (lines[7] ?? '').trim(),
  };
}

/** Whether `pid` is a live process: a zombie (exited, not yet reaped by its parent) is not. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Field 3, after the parenthesised name (which may itself hold spaces or parentheses).
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Whether `pid` is the server of `directory`, not an unrelated process that reused a stale pid
 * file's number (after a reboot, say). Postgres runs in its data directory, so on Linux its
 * working directory says; elsewhere its command line carries `-D <directory>`.
 */
export async function isServerOf(pid: number, directory: string): Promise<boolean> {
  if (!(await isRunning(pid))) return false;
  const home = await realpath(directory);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd !== undefined) return cwd === home;
  const { stdout } = await run('ps', ['-p', String(pid), '-o', 'command=']).catch(() => ({ stdout: '' }));
  return stdout.includes('postgres') && (stdout.includes(directory) || stdout.includes(home));
}

/** Signals a server to stop and waits until it is gone. */
export async function stopServer(pid: number): Promise<void> {
  signal(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (await isRunning(pid)) {
    if (Date.now() > deadline) {
      signal(pid, 'SIGQUIT');
      await sleep(1000);
      if (await isRunning(pid)) throw new Error(`the embedded Postgres (pid ${pid}) did not stop`);
      return;
    }
    await sleep(10);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Client connections to the server of `file`, other than this check's own. */
export async function connectedClients(file: { port: number; socketDirectory: string }): Promise<number> {
  const client = new pg.Client({
    host: file.socketDirectory,
    port: file.port,
    user: CLUSTER_SUPERUSER,
    database: 'postgres',
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()`,
    );
    return result.rows[0]?.n ?? 0;
  } catch {
    // Not accepting connections (starting or stopping): nobody can be using it.
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}
