import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { filesUnder, functionFiles, ROOT, sqlFragments } from './sql-text.js';

/**
 * How much SQL the server keeps and where, for comparing two commits (issue #32's before/after
 * figures): `npx tsx tools/code-stats.ts` on each. Lines are physical lines, blank ones included;
 * SQL in TypeScript is the lines spanned by every drizzle `sql\`…\`` template and every string
 * that begins like a statement (tools/sql-text.ts).
 */

/**
 * Tests whose purpose is holding SQL and TypeScript in step (a shape built in both, a parameter
 * list read on both sides). A file that no longer exists counts 0 lines. The settle test
 * (test/server/send/settle-batches.test.ts) held the settle's envelopes built in SQL against
 * TypeScript's until the settle returned rows; what it holds now is behaviour, so it is not listed.
 */
export const TIE_TESTS = [
  'test/server/events/sql-envelopes.test.ts',
  'test/server/send/store-batches.test.ts',
  'test/server/db/ingest-parameters.test.ts',
  // What is left: the one function's parameter list and the publish function's keys.
  'test/server/send/queries/settle-parameters.test.ts',
] as const;

/** The figures this script prints, by label. */
export interface CodeStats {
  'SQL lines in functions (drizzle/functions/*.sql)': number;
  'SQL lines in TS (server/**/*.ts)': number;
  'server/ TS lines': number;
  'files in server/db/ (recursive)': number;
  'tie test lines': number;
}

/** A file's line count: 0 when it does not exist, else its newlines plus an unterminated last line. */
export function lineCount(file: string): number {
  const full = path.join(ROOT, file);
  if (!existsSync(full)) return 0;
  const text = readFileSync(full, 'utf8');
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** The figures for the working tree. */
export function codeStats(): CodeStats {
  const serverTs = filesUnder('server', '.ts');
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    'SQL lines in functions (drizzle/functions/*.sql)': sum(functionFiles().map(lineCount)),
    'SQL lines in TS (server/**/*.ts)': sum(
      serverTs.flatMap((file) => sqlFragments(file).map((fragment) => fragment.lines)),
    ),
    'server/ TS lines': sum(serverTs.map(lineCount)),
    'files in server/db/ (recursive)': filesUnder('server/db', '').length,
    'tie test lines': sum(TIE_TESTS.map(lineCount)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [label, value] of Object.entries(codeStats())) console.log(`${label}: ${value}`);
  for (const file of TIE_TESTS) console.log(`  ${file}: ${lineCount(file)}`);
}
