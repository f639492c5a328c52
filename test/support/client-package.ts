import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { INBOX_BUNDLE_OPTIONS } from '../../server/inbox/bundle.js';
import { run } from './processes.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--ignore-scripts', '--no-audit', '--no-fund'];

/** The client package as a host app has it: installed from the packed tarball. */
export interface PackedClient {
  /** The temporary directory holding the tarball and the host app: remove it when done. */
  root: string;
  /** The host app's directory, where `@hookline/client` is installed. */
  appDir: string;
  /** The files in the tarball. */
  files: string[];
  /** What `import '@hookline/client'` resolves to in the host app. */
  entryUrl: string;
}

/**
 * Builds client/ the way its `prepack` does (`tsc -p client/tsconfig.json`, into a staging
 * directory so parallel test files never write the same client/dist), packs it with `npm pack`,
 * and installs the tarball into a fresh host app. reconnecting-websocket comes from npm's cache,
 * filled by the project's own install.
 */
export async function installPackedClient(): Promise<PackedClient> {
  const root = await mkdtemp(join(tmpdir(), 'hookline-client-'));
  const staging = join(root, 'package');
  await mkdir(staging);
  await cp('client/package.json', join(staging, 'package.json'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', 'client/tsconfig.json', '--outDir', join(staging, 'dist')]);
  const [packed] = JSON.parse(
    await run(npm, ['pack', '--json', '--pack-destination', root, ...quiet], { cwd: staging }),
  ) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error('npm pack reported no tarball');

  const appDir = join(root, 'app');
  await mkdir(appDir);
  const manifest = {
    name: 'host-app',
    private: true,
    type: 'module',
    dependencies: { '@hookline/client': `file:../${packed.filename}` },
  };
  await writeFile(join(appDir, 'package.json'), JSON.stringify(manifest));
  await run(npm, ['install', '--prefer-offline', '--no-package-lock', ...quiet], { cwd: appDir });
  const entryUrl = await run(
    process.execPath,
    ['--input-type=module', '-e', "process.stdout.write(import.meta.resolve('@hookline/client'))"],
    { cwd: appDir },
  );
  return { root, appDir, files: packed.files.map((file) => file.path), entryUrl };
}

/**
 * The inbox page's script bundled the way the gateway bundles it, except that its import of the
 * realtime client (`../realtime.js`) resolves to the packed package instead of the source.
 */
export async function bundleInboxWithPackedClient(client: PackedClient): Promise<string> {
  const result = await build({
    ...INBOX_BUNDLE_OPTIONS,
    metafile: true,
    plugins: [
      {
        name: 'packed-client',
        setup(builder) {
          builder.onResolve({ filter: /^\.\.\/realtime\.js$/ }, (args) =>
            builder.resolve('@hookline/client', { kind: args.kind, resolveDir: client.appDir }),
          );
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs);
  if (inputs.some((input) => /^client\/(realtime|backoff|types)\.ts$/.test(input)))
    throw new Error(`the inbox bundle still holds the client's sources: ${inputs.join(', ')}`);
  if (!inputs.some((input) => input.includes('node_modules/@hookline/client/dist/realtime.js')))
    throw new Error(`the inbox bundle lacks the packed client: ${inputs.join(', ')}`);
  const script = result.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no output for the inbox');
  return script;
}
