import { describe, expect, it } from 'vitest';
import { BAR_WIDTH, bar, pagesRead, progressLine, summaryLine } from '../../tools/sync-progress.js';

const run = (pages: number, status = 'running') => ({
  status,
  pages,
  messages: pages * 100,
  newMessages: pages * 90,
  duplicates: pages * 10,
  updated: 0,
  oldestSeen: '2026-12-07T09:12:31.000Z',
});

describe('the sync progress display', () => {
  it('moves its bar with every page read, and fills it when the sync ends', () => {
    const bars = [0, 1, 2, 3].map((pages) => bar(pages, false));
    expect(new Set(bars).size).toBe(bars.length);
    for (const shown of bars) expect(shown).toHaveLength(BAR_WIDTH + 2);
    expect(bar(3, true)).toBe(`[${'#'.repeat(BAR_WIDTH)}]`);
  });

  it('counts the pages of every run of a request for all accounts', () => {
    expect(pagesRead({ ...run(0), runs: [run(2), run(3, 'done')] })).toBe(5);
    expect(pagesRead(run(4))).toBe(4);
  });

  it('gives the rate so far, and a summary with the elapsed time and the rate', () => {
    expect(progressLine(run(2), 1000)).toContain('200 messages/s');
    expect(summaryLine(run(3, 'done'), 2000)).toMatch(
      /300 messages in 3 pages .* in 2\.0 s, 150 messages\/s$/,
    );
  });
});
