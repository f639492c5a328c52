import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCHES, markers, type RunStamp, renderSection, replaceSection } from '../../tools/perf-report.js';

const stamp: RunStamp = {
  commit: 'abc1234',
  dirty: false,
  node: 'v24.0.0',
  date: '2026-12-07',
  cores: 2,
  cpu: 'AMD EPYC',
  smoke: false,
};

describe('tools/perf-report.ts', () => {
  it('rewrites only the text between a section’s markers', () => {
    const doc = [
      'prose before',
      markers('send').begin,
      'old figures',
      markers('send').end,
      'prose after',
    ].join('\n');
    const next = replaceSection(doc, 'send', 'new figures');
    expect(next).toBe(
      ['prose before', markers('send').begin, 'new figures', markers('send').end, 'prose after'].join('\n'),
    );
    expect(replaceSection(next, 'send', 'again')).toContain(`${markers('send').begin}\nagain\n`);
  });

  it('refuses a document without the section’s markers', () => {
    expect(() => replaceSection('no markers', 'ingest', 'x')).toThrow(/bench:ingest:begin/);
  });

  it('stamps each section with its run', () => {
    const text = renderSection(
      { bench: 'send', command: 'npm run bench:send', markdown: ['| a |'], figures: {} },
      { ...stamp, dirty: true },
    );
    expect(text).toContain('commit abc1234 (with uncommitted changes), Node v24.0.0, 2026-12-07, 2 cores');
    expect(text).toContain('| a |');
  });

  it('finds a section for every benchmark in docs/performance.md', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/performance.md'), 'utf8');
    for (const name of BENCHES) expect(() => replaceSection(doc, name, '')).not.toThrow();
  });
});
