import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One chaos scenario's counts, as docs/reliability.md tabulates them. Every count is measured,
 * never assumed: `lost` and `duplicated` come from the database or the receiver, not from
 * the sender's view.
 */
export interface ScenarioResult {
  /** Stable id, also the file name under test/chaos/results/. */
  id: string;
  /** One line: what was done to the system. */
  scenario: string;
  /** Requests, webhooks or events the test sent. */
  sent: number;
  /** How many of them got the success answer (HTTP 200, or a correct 4xx for hostile input). */
  acknowledged: number;
  /** Rows found in the database for what was acknowledged (null when not applicable). */
  stored: number | null;
  /** Events that reached the far side (socket client or subscriber), null when not applicable. */
  delivered: number | null;
  lost: number;
  duplicated: number;
  /** Anything a reader needs to interpret the row (e.g. "provider retries: 312"). */
  notes: string;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes a scenario's counts for `npm run chaos:report` to tabulate. */
export async function recordScenario(result: ScenarioResult): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, `${result.id}.json`), `${JSON.stringify(result, null, 2)}\n`);
}
