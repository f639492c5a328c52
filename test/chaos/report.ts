import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, type ScenarioResult } from './support/results.js';

/**
 * `npm run chaos:report`: turns the counts the last `npm run test:chaos` recorded into the table
 * of docs/reliability.md, between its markers, so the published figures are always measured ones.
 */

const DOC = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const START = '<!-- chaos-results:start -->';
const END = '<!-- chaos-results:end -->';

/** The order the documentation describes the scenarios in; unknown ids follow, alphabetically. */
const ORDER = [
  'kill-9-during-burst',
  'postgres-restart-mid-burst',
  'instance-killed-websocket-resume',
  'subscriber-down-then-back',
  'worker-killed-mid-delivery',
  'hostile-input',
  'ping-flood',
  'stalled-bodies',
  'unauthenticated-bodies',
  'down-beyond-retries-then-sync',
  'gateway-killed-mid-send',
  'provider-misbehaves',
];

async function readResults(): Promise<ScenarioResult[]> {
  const files = (await readdir(RESULTS_DIR).catch(() => [])).filter((name) => name.endsWith('.json'));
  const results = await Promise.all(
    files.map(async (name) => JSON.parse(await readFile(join(RESULTS_DIR, name), 'utf8')) as ScenarioResult),
  );
  const rank = (id: string) => (ORDER.includes(id) ? ORDER.indexOf(id) : ORDER.length);
  return results.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
}

const cell = (value: string | number | null) => (value === null ? '—' : String(value).replaceAll('|', '\\|'));

function table(results: ScenarioResult[]): string {
  const header = [
    '| scenario | sent | acknowledged | stored | delivered | lost | duplicated | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const rows = results.map(
    (r) =>
      `| \`${r.id}\`: ${cell(r.scenario)} | ${cell(r.sent)} | ${cell(r.acknowledged)} | ${cell(r.stored)} | ` +
      `${cell(r.delivered)} | ${cell(r.lost)} | ${cell(r.duplicated)} | ${cell(r.notes)} |`,
  );
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
  return [`Generated ${new Date().toISOString().slice(0, 10)} on ${machine}.`, '', ...header, ...rows].join(
    '\n',
  );
}

async function main(): Promise<void> {
  const results = await readResults();
  if (results.length === 0) throw new Error(`no results in ${RESULTS_DIR}: run npm run test:chaos first`);
  const doc = await readFile(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC} lacks the ${START} … ${END} markers`);
  await writeFile(DOC, `${doc.slice(0, start + START.length)}\n${table(results)}\n${doc.slice(end)}`);
  // Biome aligns Markdown tables; formatting here keeps `npm run lint` clean after a report.
  execFileSync(
    fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url)),
    ['format', '--write', DOC],
    {
      stdio: 'ignore',
    },
  );
  process.stdout.write(`wrote ${results.length} scenarios into ${DOC}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos:report: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
