import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * The inbox page's files: client/inbox in the source tree (`npm start`), dist/client/inbox in a
 * build (`npm run build` copies the page there with its script already bundled).
 */
export const INBOX_DIR = fileURLToPath(new URL('../../client/inbox/', import.meta.url));

/**
 * The page's stylesheets, split by concern (the chat list and page, the conversation); served
 * as one `/inbox.css`, in this order.
 */
export const INBOX_STYLESHEETS = ['inbox.css', 'messages.css'] as const;

/** The bundled script's file name, next to index.html in a build. */
export const INBOX_SCRIPT = 'inbox.js';

/**
 * How the page's script is bundled for the browser: client/inbox/main.ts with the realtime client
 * it imports, as one ES2022 module held in memory. Tests that bundle it another way start here.
 */
export const INBOX_BUNDLE_OPTIONS = {
  entryPoints: [`${INBOX_DIR}main.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  write: false,
  logLevel: 'silent',
} satisfies BuildOptions;

/**
 * Bundles client/inbox/main.ts (and the realtime client it imports) for the browser with esbuild,
 * a development dependency: only a source checkout ever calls this.
 */
export async function bundleInbox(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({ ...INBOX_BUNDLE_OPTIONS, minify: true, sourcemap: 'inline' });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the inbox');
  return output.text;
}

/**
 * The inbox script: the one a build bundled ahead of time or, in a source checkout, bundled now.
 * Bundling on demand rather than at install or startup keeps `npm start` free of a build step and
 * costs nothing until someone opens the page.
 */
export async function inboxScript(): Promise<string> {
  try {
    return await readFile(`${INBOX_DIR}${INBOX_SCRIPT}`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return bundleInbox();
  }
}
