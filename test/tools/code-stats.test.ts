import { describe, expect, it } from 'vitest';
import { codeStats, lineCount, TIE_TESTS } from '../../tools/code-stats.js';
import { sqlFragments } from '../../tools/sql-text.js';

describe('tools/code-stats.ts', () => {
  it('counts the lines a sql template or a statement string spans, and no prose', () => {
    const text = [
      'const a = sql`select id',
      `  from messages where id = ${'$'}{id}\`;`,
      "const b = 'insert into chats (id) values ($1)';",
      "const c = 'Select an account';",
      "const d = 'DELETE';",
    ].join('\n');
    const fragments = sqlFragments('x.ts', text);
    expect(fragments.map(({ line, lines }) => ({ line, lines }))).toEqual([
      { line: 1, lines: 2 },
      { line: 3, lines: 1 },
    ]);
    expect(fragments[0]?.text).toBe('select id\n  from messages where id = $1');
  });

  it('counts a file that is gone as 0 lines', () => {
    expect(lineCount('test/server/nothing-here.test.ts')).toBe(0);
    expect(TIE_TESTS.length).toBeGreaterThan(0);
  });

  it('measures the work tree', () => {
    const stats = codeStats();
    expect(stats['server/ TS lines']).toBeGreaterThan(1000);
    expect(stats['SQL lines in TS (server/**/*.ts)']).toBeGreaterThan(0);
  });
});
