import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './gateway-process.js';

const run = promisify(execFile);

/**
 * A throwaway Postgres cluster of one scenario's own, so it can be stopped and started without
 * touching the machine's shared server that other tests use.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** `pg_ctl stop -m fast`: connections are cut, in-flight transactions roll back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster (if running) and deletes its files. */
  destroy(): Promise<void>;
}

/** The newest installed server's bin directory (Debian layout), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Postgres refuses to run as root: as root, run its tools as the `postgres` user. */
const asRoot = userInfo().uid === 0;

async function asPostgresUser(command: string, args: string[]): Promise<void> {
  const [file, fullArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  await run(file, fullArgs, { timeout: 60_000 });
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(stdout)?.[1];
  const gid = /gid=(\d+)/.exec(stdout)?.[1];
  if (!uid || !gid) throw new Error(`cannot read the postgres user's ids from: ${stdout}`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** initdb (trust auth, no fsync: the data is thrown away) and start on a free loopback port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error('no Postgres server binaries under /usr/lib/postgresql (initdb): install postgresql');
  }
  const root = await mkdtemp(join(tmpdir(), 'hookline-pg-'));
  const dataDir = join(root, 'data');
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    await chown(root, uid, gid);
  }
  await chmod(root, 0o700);
  const port = await freePort();
  await asPostgresUser(join(bin, 'initdb'), ['-D', dataDir, '--auth=trust', '-U', 'postgres', '--no-sync']);
  const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (...args: string[]) =>
    asPostgresUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(root, 'server.log'), ...args]);
  let running = false;
  const start = async () => {
    await pgCtl('-o', serverOptions, '-w', 'start');
    running = true;
  };
  const stop = async () => {
    await pgCtl('-m', 'fast', '-w', 'stop');
    running = false;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      if (running) await stop().catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
