import { access, constants, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { StartupError } from '../errors.js';
import { redactUrl } from '../shared/redact.js';

/** The error code of a failed system call or Postgres error, found on it or on its cause. */
function codeOf(error: unknown): string | undefined {
  for (let at: unknown = error, depth = 0; at && depth < 5; depth += 1) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What a failed `listen` on PORT/HOST means for the operator, or undefined for another failure.
 * Address in use, a privileged port, and a HOST that is no address of this machine each name the
 * setting and the fix.
 */
export function listenStartupError(error: unknown, port: number, host: string): StartupError | undefined {
  const where = `${port} on ${host}`;
  switch (codeOf(error)) {
    case 'EADDRINUSE':
      return new StartupError('HL_ERR_PORT_IN_USE', {
        setting: 'PORT',
        problem: `${where} is already in use (another Hookline, or another server)`,
        fix: 'stop what listens there, or set PORT to a free port',
        cause: error,
      });
    case 'EACCES':
      return new StartupError('HL_ERR_LISTEN', {
        setting: 'PORT',
        problem: `listening on ${where} needs privileges this process lacks`,
        fix: 'set PORT to 1024 or above (publish it as 80 or 443 through the load balancer or container)',
        cause: error,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError('HL_ERR_LISTEN', {
        setting: 'HOST',
        problem: `${host} is not an address of this machine`,
        fix: 'set HOST to one of its addresses, 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
        cause: error,
      });
    default:
      return undefined;
  }
}

/**
 * Fails fast, before the database starts, when PORT is taken: binds it for a moment and lets go.
 * `listen` itself is still checked (another process may take the port in between).
 */
export async function assertPortAvailable(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  }).catch((error: unknown) => {
    throw listenStartupError(error, port, host) ?? error;
  });
}

/** Where a connection string points, its credentials masked: `host:port/database`. */
function describeDatabase(url: string): { target: string; database: string } {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
    const host = parsed.searchParams.get('host') ?? (parsed.hostname || 'localhost');
    return { target: `${host}:${parsed.port || 5432}`, database };
  } catch {
    return { target: redactUrl(url), database: '' };
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

/**
 * What a failure to connect to DATABASE_URL (or to migrate through it) means for the operator:
 * a server that refuses or cannot be reached, a database that does not exist, credentials it
 * refuses. Undefined for any other failure (a failing migration, say), which is reported as it is.
 */
export function databaseStartupError(error: unknown, url: string): StartupError | undefined {
  const { target, database } = describeDatabase(url);
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : '';
  if ((code && UNREACHABLE.has(code)) || /timeout|Connection terminated/i.test(message)) {
    const refused = code === 'ECONNREFUSED';
    return new StartupError('HL_ERR_DATABASE_UNREACHABLE', {
      setting: 'DATABASE_URL',
      problem: refused
        ? `Postgres at ${target} refused the connection`
        : `Postgres at ${target} cannot be reached (${code ?? 'timed out'})`,
      fix: 'start Postgres there, or fix the host and port in DATABASE_URL (unset it to run the embedded Postgres in DATA_DIR)',
      cause: error,
    });
  }
  if (code === '3D000') {
    return new StartupError('HL_ERR_DATABASE_MISSING', {
      setting: 'DATABASE_URL',
      problem: `database "${database}" does not exist on ${target}`,
      fix: `create it (createdb ${database}, or CREATE DATABASE), or name an existing database in DATABASE_URL`,
      cause: error,
    });
  }
  if (code === '28P01' || code === '28000') {
    return new StartupError('HL_ERR_DATABASE_AUTH', {
      setting: 'DATABASE_URL',
      problem: `Postgres at ${target} refused the user or password`,
      fix: 'fix the user and password in DATABASE_URL, or allow them in pg_hba.conf',
      cause: error,
    });
  }
  return undefined;
}

/**
 * What a failure to create or write DATA_DIR means for the operator (a bind mount owned by
 * another user is the usual one in containers), or undefined for any other failure.
 */
export function dataDirStartupError(error: unknown, dataDir: string): StartupError | undefined {
  const code = codeOf(error);
  const path = resolve(dataDir);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StartupError('HL_ERR_DATA_DIR', {
      setting: 'DATA_DIR',
      problem: `${path} is not writable by this process (uid ${process.getuid?.() ?? '?'}${code === 'EROFS' ? ', read-only file system' : ''})`,
      fix: 'give it to that user (chown; the container image runs as uid 1000), or set DATA_DIR to a writable directory',
      cause: error,
    });
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    return new StartupError('HL_ERR_DATA_DIR', {
      setting: 'DATA_DIR',
      problem: `${path} is not a directory, or lies under a file`,
      fix: 'set DATA_DIR to a directory (it is created when missing)',
      cause: error,
    });
  }
  return undefined;
}

/** Creates DATA_DIR when missing and checks this process may write in it, before anything starts. */
export async function assertDataDirWritable(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await access(dataDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw dataDirStartupError(error, dataDir) ?? error;
  }
}
