/**
 * What `npm run sync` prints (tools/sync-cli.ts): a progress line that moves with every page
 * read, and a closing summary with the rate and the elapsed time. Pure functions of the progress
 * `GET /api/sync/:id` answers, so they are tested without a terminal.
 */

/** One run as `GET /api/sync/:id` shows it (the fields this display reads). */
export interface RunProgress {
  status: string;
  pages?: number;
  messages: number;
  newMessages: number;
  duplicates: number;
  updated: number;
  oldestSeen?: string | null;
}

/** A run, or a request for every account with its runs. */
export type SyncProgress = RunProgress & { runs?: RunProgress[] };

/** The width of the bar, in cells. */
export const BAR_WIDTH = 24;

/** Pages read so far, by every run of the request. */
export function pagesRead(progress: SyncProgress): number {
  const runs = progress.runs ?? [progress];
  return runs.reduce((total, run) => total + (run.pages ?? 0), 0);
}

/**
 * The bar. The provider says nothing of how many pages remain, so no percentage is claimed while
 * the sync runs: a marker moves one cell per page read, and the bar fills once the sync ends.
 */
export function bar(pages: number, finished: boolean): string {
  if (finished) return `[${'#'.repeat(BAR_WIDTH)}]`;
  const at = pages % BAR_WIDTH;
  return `[${'.'.repeat(at)}${'>'}${'.'.repeat(BAR_WIDTH - at - 1)}]`;
}

/** The oldest message time reached, to the minute: how far back the newest-first read has got. */
function reached(progress: SyncProgress): string {
  const runs = progress.runs ?? [progress];
  const times = runs.flatMap((run) => (run.oldestSeen ? [Date.parse(run.oldestSeen)] : []));
  if (times.length === 0) return '';
  return `, back to ${new Date(Math.min(...times)).toISOString().slice(0, 16)}Z`;
}

/** The progress line: bar, pages, counts, messages per second so far, and how far back. */
export function progressLine(progress: SyncProgress, elapsedMs: number): string {
  const pages = pagesRead(progress);
  const rate = progress.messages / Math.max(elapsedMs / 1000, 0.001);
  return (
    `${bar(pages, progress.status !== 'running')} ${pages} pages, ${progress.messages} read ` +
    `(${progress.newMessages} new, ${progress.duplicates} duplicates, ${progress.updated} updated), ` +
    `${rate.toFixed(0)} messages/s${reached(progress)}`
  );
}

/** The closing line: outcome, totals, elapsed time and the rate over the whole sync. */
export function summaryLine(progress: SyncProgress, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = progress.messages / Math.max(seconds, 0.001);
  return (
    `sync ${progress.status}: ${progress.messages} messages in ${pagesRead(progress)} pages ` +
    `(${progress.newMessages} new, ${progress.duplicates} duplicates, ${progress.updated} updated) ` +
    `in ${seconds.toFixed(1)} s, ${rate.toFixed(0)} messages/s`
  );
}
