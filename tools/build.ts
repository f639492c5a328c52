/**
 * `npm run build [-- --out-dir DIR]`: compiles the gateway to JavaScript with source maps
 * (default `dist/`) and copies what it reads from disk at run time beside it, at the same relative
 * paths as in the source tree: the SQL migrations, the SQL function files and the inbox page, whose script is bundled
 * here so a production start needs neither tsx nor esbuild.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { bundleInbox, INBOX_SCRIPT, INBOX_STYLESHEETS } from '../server/inbox/bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = resolve(root, values['out-dir']);

await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
await promisify(execFile)(process.execPath, [
  tsc,
  '-p',
  join(root, 'tsconfig.build.json'),
  '--outDir',
  outDir,
]);

// The migrator reads the .sql files and meta/_journal.json; drizzle-kit's snapshots stay behind.
await cp(join(root, 'drizzle/migrations'), join(outDir, 'drizzle/migrations'), {
  recursive: true,
  filter: (source) => !source.endsWith('_snapshot.json'),
});
// The migrator applies every function file after the migrations (server/db/migrate.ts).
await cp(join(root, 'drizzle/functions'), join(outDir, 'drizzle/functions'), { recursive: true });
const inbox = join(outDir, 'client/inbox');
await mkdir(inbox, { recursive: true });
for (const file of ['index.html', ...INBOX_STYLESHEETS])
  await cp(join(root, 'client/inbox', file), join(inbox, file));
await writeFile(join(inbox, INBOX_SCRIPT), await bundleInbox());

process.stdout.write(`built ${outDir}\n`);
