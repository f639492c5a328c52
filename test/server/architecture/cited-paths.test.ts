import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT, source } from './source-files.js';

/**
 * Every repository path the docs cite, and every one a code comment cites, exists: a reader who
 * follows `server/ingest/service.ts` or `test/server/app.test.ts` finds it. A path with a
 * placeholder (`drizzle/functions/<name>.sql`, `server/**\/*.ts`, `…`) names a pattern, not a file,
 * and is left out. A failure lists each missing path with the file and line that cite it.
 */

/** A path from the repository root: a top folder, then a file with an extension or a folder. */
const CITED = /(?<![\w./@-])((?:server|test|docs|drizzle|tools|client)\/[\w./-]*[\w/])/g;
const PATTERN = /[*<>{}…]|\.\.\.|NNNN/;

/** The git-tracked files of the documented places: docs, README, and code whose comments count. */
function citingFiles(): string[] {
  return execFileSync(
    'git',
    ['ls-files', '-z', '--', 'README.md', 'docs', 'server', 'client', 'tools', 'test'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((file) =>
      file.startsWith('docs/') || file === 'README.md' ? file.endsWith('.md') : file.endsWith('.ts'),
    );
}

/** The comments of a TypeScript file, each with its first line. */
function comments(file: string): { text: string; line: number }[] {
  const text = source(file);
  const tree = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const seen = new Map<number, { text: string; line: number }>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      seen.set(range.pos, {
        text: text.slice(range.pos, range.end),
        line: tree.getLineAndCharacterOfPosition(range.pos).line + 1,
      });
    }
  };
  const visit = (node: ts.Node): void => {
    collect(ts.getLeadingCommentRanges(text, node.getFullStart()));
    collect(ts.getTrailingCommentRanges(text, node.getEnd()));
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return [...seen.values()];
}

/** The paths a piece of text cites, each with the line (from `firstLine`) it is on. */
function citedPaths(text: string, firstLine = 1): { cited: string; line: number }[] {
  const found: { cited: string; line: number }[] = [];
  text.split('\n').forEach((lineText, index) => {
    for (const match of lineText.matchAll(CITED)) {
      const cited = match[1]!.replace(/[.]+$/, '');
      const rest = lineText.slice((match.index ?? 0) + match[0].length);
      if (PATTERN.test(cited) || /^[*<{…]/.test(rest)) continue;
      found.push({ cited, line: firstLine + index });
    }
  });
  return found;
}

/** Whether git ignores a path: an output a build or a run writes (`client/dist`, chaos results). */
function ignored(cited: string): boolean {
  return [cited, `${cited.replace(/\/$/, '')}/`].some((candidate) => {
    try {
      execFileSync('git', ['check-ignore', '-q', '--no-index', candidate], { cwd: ROOT });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether a cited path is there: as written, as the `.ts` source a `.js` import path names, or as
 * an ignored output that exists only once built.
 */
function exists(cited: string): boolean {
  const full = path.join(ROOT, cited);
  if (existsSync(full) || (cited.endsWith('.js') && existsSync(full.replace(/\.js$/, '.ts')))) return true;
  return ignored(cited);
}

describe('paths cited in docs and comments', () => {
  it('all exist', () => {
    const missing: string[] = [];
    for (const file of citingFiles()) {
      const pieces = file.endsWith('.md') ? [{ text: source(file), line: 1 }] : comments(file);
      for (const piece of pieces) {
        for (const { cited, line } of citedPaths(piece.text, piece.line)) {
          if (!exists(cited)) missing.push(`${cited} (cited at ${file}:${line})`);
        }
      }
    }
    expect([...new Set(missing)].sort()).toEqual([]);
  });

  it('reads paths, and leaves patterns and other text alone', () => {
    const text = [
      'see `server/ingest/service.ts`, and test/server/app.test.ts.',
      'drizzle/functions/<name>.sql, server/**/*.ts, node_modules/x/server/a.ts, https://x.dev/docs/a.md',
      'drizzle/migrations/NNNN_name.sql',
    ].join('\n');
    expect(citedPaths(text, 10)).toEqual([
      { cited: 'server/ingest/service.ts', line: 10 },
      { cited: 'test/server/app.test.ts', line: 10 },
    ]);
  });
});
