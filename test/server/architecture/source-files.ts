import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The features of server/: the folders of layer 4 (docs/architecture.md), each reached by another
 * only through its index.ts.
 */
export const FEATURES = [
  'ingest',
  'sync',
  'send',
  'realtime',
  'outbound',
  'chats',
  'inbox',
  'ops',
  'read-status',
] as const;

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Every TypeScript file under server/, as a path relative to the repository root. */
export function serverFiles(): string[] {
  return (readdirSync(path.join(ROOT, 'server'), { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.posix.join('server', file.split(path.sep).join('/')))
    .sort();
}

/** A file's source text. */
export function source(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/**
 * The relative modules a file imports or re-exports (static and dynamic), resolved to paths from
 * the repository root with `.ts` for `.js`. Package imports (`fastify`, `node:fs`) are left out.
 */
export function relativeImports(file: string): string[] {
  return ts
    .preProcessFile(source(file), true, true)
    .importedFiles.map((entry) => entry.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) =>
      path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts'),
    );
}

/** Whether a literal is a module path (`import … from '…'`, `export … from '…'`, `import('…')`). */
function isModuleSpecifier(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    ts.isImportDeclaration(parent) ||
    ts.isExportDeclaration(parent) ||
    ts.isExternalModuleReference(parent) ||
    (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword)
  );
}

/** The string literals of a file, template parts included; comments and module paths are not. */
export function stringLiterals(file: string): { text: string; line: number }[] {
  const tree = ts.createSourceFile(file, source(file), ts.ScriptTarget.Latest, true);
  const found: { text: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && !isModuleSpecifier(node)) {
      found.push({ text: node.text, line: tree.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}
