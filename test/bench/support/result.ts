import { writeFileSync } from 'node:fs';

/**
 * A benchmark's result in machine-readable form, for tools/perf-report.ts: the markdown it prints
 * for docs/performance.md, and its headline figures by name. A benchmark writes it when run with
 * `--json FILE`; without the flag it only prints, as before.
 */
export interface BenchResult {
  /** The npm script's suffix: `ingest` for `bench:ingest`. */
  bench: string;
  /** The command and sizes the figures come from, in words. */
  command: string;
  /** Markdown lines: the tables and ratios as the benchmark prints them. */
  markdown: string[];
  /** Headline figures by name (rates, ratios, percentiles), for comparing runs. */
  figures: Record<string, number | string>;
}

/** The file `--json FILE` (or `--json=FILE`) names, if the benchmark was run with one. */
export function jsonFlag(argv: readonly string[] = process.argv): string | undefined {
  for (const [index, arg] of argv.entries()) {
    if (arg === '--json') return argv[index + 1];
    if (arg.startsWith('--json=')) return arg.slice('--json='.length);
  }
  return undefined;
}

/** Writes `result` to the `--json` file, when there is one. */
export function writeBenchResult(result: BenchResult, file = jsonFlag()): void {
  if (file) writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
