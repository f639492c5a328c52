import { readFileSync } from 'node:fs';

/**
 * The Node options `npm start` runs the gateway with (the words between `node` and `--import` in
 * package.json's `start` script), so that the gateways benchmarks and the chaos suite start run
 * as users run theirs, with one definition of them. A benchmark's BENCH_NODE_ARGS comes after
 * them and wins where both set one.
 */
export function gatewayNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const words = manifest.scripts.start.split(/\s+/);
  const end = words.indexOf('--import');
  return words[0] === 'node' && end > 0 ? words.slice(1, end) : [];
}
