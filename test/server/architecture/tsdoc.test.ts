import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, source } from './source-files.js';

/**
 * Issue #21: every export of server/, client/ and tools/ carries a TSDoc comment, so a reader
 * learns what a declaration is and why it exists without reading its uses. Re-exports
 * (`export type * from`, `export { x } from`) are documented where they are declared.
 */
const DECLARATION = /^export (async )?(function|class|const|interface|type|enum|abstract class)\b/;
const RE_EXPORT = /^export type (\*|\{)/;
const DECORATOR = /^\s*@/;
const DOC_END = /\*\/\s*$/;

/** The git-tracked TypeScript files under the documented folders, relative to the repository root. */
function documentedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--', 'server', 'client', 'tools'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file.endsWith('.ts'));
}

/**
 * The top-level exported declarations of a file whose nearest preceding line (decorators
 * skipped) does not end a `/** … *\/` block, as `path:line: declaration`.
 */
function undocumentedExports(file: string, text: string): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  lines.forEach((line, index) => {
    if (!DECLARATION.test(line) || RE_EXPORT.test(line)) return;
    let previous = index - 1;
    while (previous >= 0 && DECORATOR.test(lines[previous] ?? '')) previous--;
    if (previous < 0 || !DOC_END.test(lines[previous] ?? '')) {
      found.push(`${file}:${index + 1}: ${line.trim()}`);
    }
  });
  return found;
}

describe('TSDoc on exports', () => {
  it('finds a declaration without a comment and accepts one with a comment or a decorator', () => {
    const text = [
      'export const bare = 1;',
      '/** Documented. */',
      'export function documented() {}',
      '/** Decorated. */',
      '@sealed',
      'export class Decorated {}',
      '// A line comment is not TSDoc.',
      'export interface LineCommented {}',
      "export type * from './types.js';",
    ].join('\n');
    expect(undocumentedExports('x.ts', text)).toEqual([
      'x.ts:1: export const bare = 1;',
      'x.ts:8: export interface LineCommented {}',
    ]);
  });

  it('every export under server/, client/ and tools/ has a TSDoc comment directly above it', () => {
    const files = documentedFiles();
    expect(files.length).toBeGreaterThan(0);
    const missing = files.flatMap((file) => undocumentedExports(file, source(file)));
    expect(missing, `exports without a TSDoc comment:\n${missing.join('\n')}`).toEqual([]);
  });
});
