import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { serverFiles, source } from './source-files.js';

/** Where a file reads `process.env` (comments do not count). */
function environmentReads(file: string): string[] {
  const tree = ts.createSourceFile(file, source(file), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process'
    ) {
      found.push(`${file}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

/** The environment is read once, validated with zod, in server/config.ts (docs/configuration.md). */
describe('the environment', () => {
  it('is read only by server/config.ts', () => {
    const readers = serverFiles().filter((file) => file !== 'server/config.ts');
    expect(readers.flatMap(environmentReads)).toEqual([]);
    expect(environmentReads('server/config.ts').length).toBeGreaterThan(0);
  });
});
