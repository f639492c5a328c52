import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Where a repository keeps SQL text, read the same way by tools/code-stats.ts (how much there is)
 * and the SQL layering test (which tables each file touches), so both count the same text.
 */

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, '..');

/** One piece of SQL text in a TypeScript file. */
export interface SqlFragment {
  /** The text, with each `${…}` substitution replaced by a `$n` placeholder. */
  text: string;
  /** First line of the literal, 1-based. */
  line: number;
  /** Lines the literal spans in the file, first and last included. */
  lines: number;
}

/**
 * How a statement begins, which marks a plain string as SQL text; a lone verb (`'DELETE'`, an HTTP
 * method) or prose (`'Create an endpoint'`) does not.
 */
const SQL_START =
  /^\s*(select\b[\s\S]*\bfrom\b|select\s+\d|insert\s+into\b|update\s+\w+\s+set\b|delete\s+from\b|with\s+\w+\s+as\b|(un)?listen\s|notify\s|create\s+(database|table|index|function|or\s+replace)\b|lock\s+table\b|truncate\b)/i;

/** Files under a folder of the repository that end in `suffix`, sorted, relative to the root. */
export function filesUnder(folder: string, suffix: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' }) as string[];
  } catch {
    return [];
  }
  return entries
    .filter((file) => file.endsWith(suffix))
    .map((file) => path.posix.join(folder, file.split(path.sep).join('/')))
    .filter((file) => statSync(path.join(ROOT, file)).isFile())
    .sort();
}

/** The SQL function files, `drizzle/functions/*.sql`. */
export function functionFiles(): string[] {
  return filesUnder('drizzle/functions', '.sql');
}

/** Whether `node` is the template of a tagged template whose tag is `sql` (drizzle's). */
function isSqlTag(node: ts.TaggedTemplateExpression): boolean {
  return ts.isIdentifier(node.tag) && node.tag.text === 'sql';
}

/** A template's text with `$1`, `$2`, … where its substitutions are. */
function templateText(template: ts.TemplateLiteral): string {
  if (ts.isNoSubstitutionTemplateLiteral(template)) return template.text;
  return [
    template.head.text,
    ...template.templateSpans.map((span, index) => `$${index + 1}${span.literal.text}`),
  ].join('');
}

/**
 * The SQL text of a TypeScript file: every drizzle `sql\`…\`` template, and every other string or
 * template literal that begins like a statement (`select …`, `insert …`, `LISTEN …`).
 */
export function sqlFragments(
  file: string,
  text = readFileSync(path.join(ROOT, file), 'utf8'),
): SqlFragment[] {
  const tree = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: SqlFragment[] = [];
  const add = (node: ts.Node, body: string) => {
    const first = tree.getLineAndCharacterOfPosition(node.getStart()).line;
    const last = tree.getLineAndCharacterOfPosition(node.getEnd()).line;
    found.push({ text: body, line: first + 1, lines: last - first + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(node)) {
      if (isSqlTag(node)) {
        add(node.template, templateText(node.template));
        // Templates nested in the substitutions are pieces of the same statement: counted apart.
        if (!ts.isNoSubstitutionTemplateLiteral(node.template)) {
          for (const span of node.template.templateSpans) visit(span.expression);
        }
        return;
      }
    } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (SQL_START.test(node.text)) add(node, node.text);
    } else if (ts.isTemplateExpression(node)) {
      const body = templateText(node);
      if (SQL_START.test(body)) add(node, body);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}
