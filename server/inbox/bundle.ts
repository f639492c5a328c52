import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The inbox page's sources (client/inbox), served as they are or bundled on first request. */
export const INBOX_DIR = fileURLToPath(new URL('../../client/inbox/', import.meta.url));

/**
 * Bundles client/inbox/main.ts (and the realtime client it imports) for the browser. Done on the
 * first request rather than at install or startup, so `npm start` needs no build step and pays
 * nothing until someone opens the page.
 */
export async function bundleInbox(): Promise<string> {
  const result = await build({
    entryPoints: [`${INBOX_DIR}main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the inbox');
  return output.text;
}
