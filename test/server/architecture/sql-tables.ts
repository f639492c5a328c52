import path from 'node:path';
import ts from 'typescript';
import { functionFiles, sqlFragments } from '../../../tools/sql-text.js';
import { FEATURES, relativeImports, serverFiles, source } from './source-files.js';

/**
 * What the SQL layering test (sql-layers.test.ts) reads: which feature owns each table, and which
 * tables and SQL functions each file's SQL touches. docs/architecture.md, "Tables and their
 * owners", gives the reasons for the map.
 */

/**
 * The owner of each table of drizzle/schema.ts: a feature, or `db` for the conversation store
 * (accounts, chats, messages). That store is the facts every feature works on: ingest and sync
 * write received messages, send writes own ones, read-status and chats mark them read, chats
 * reads them; its row types live in db/ (db/messages.ts, db/chats.ts), below all of them, so any
 * feature may touch it and none reaches into another for it.
 */
export const TABLE_OWNERS: Record<string, (typeof FEATURES)[number] | 'db'> = {
  inbound_events: 'ingest',
  accounts: 'db',
  chats: 'db',
  messages: 'db',
  endpoints: 'outbound',
  deliveries: 'outbound',
  delivery_attempts: 'outbound',
  outbound_pauses: 'outbound',
  sends: 'send',
  send_requests: 'send',
  send_attachments: 'send',
  send_budgets: 'send',
  realtime_events: 'realtime',
  realtime_sessions: 'realtime',
  login_codes: 'realtime',
  sync_accounts: 'sync',
  sync_runs: 'sync',
  read_marks: 'read-status',
};

/** The tables drizzle/schema.ts declares, by the name its module exports for each. */
export function schemaTables(): Map<string, string> {
  const tables = new Map<string, string>();
  for (const match of source('drizzle/schema.ts').matchAll(/export const (\w+) = pgTable\(\s*'(\w+)'/g)) {
    tables.set(match[1]!, match[2]!);
  }
  return tables;
}

/** A SQL function's name, from its file's name: `drizzle/functions/<name>.sql`. */
export const functionName = (file: string) => path.posix.basename(file, '.sql');

/** The feature a SQL function file names in its `-- owner: <feature>` header line. */
export function functionOwner(file: string): string | undefined {
  return /^-- owner: ([a-z-]+)\s*$/m.exec(source(file))?.[1];
}

/** SQL with its `--` comments blanked, so that prose naming a table is not read as a use of it. */
const withoutComments = (sql: string) => sql.replace(/--[^\n]*/g, '');

/** The tables a piece of SQL reads or writes (FROM, JOIN, INTO, UPDATE, TABLE), of `known` ones. */
export function tablesIn(sql: string, known: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const match of withoutComments(sql).matchAll(
    /\b(?:from|join|into|update|table)\s+([a-z_][a-z0-9_]*)/gi,
  )) {
    const name = match[1]!.toLowerCase();
    if (known.has(name)) found.add(name);
  }
  return [...found];
}

/** The SQL functions a piece of SQL calls, of `known` ones. */
export function functionsIn(sql: string, known: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const match of withoutComments(sql).matchAll(/\b(hookline_[a-z0-9_]+)\s*\(/gi)) {
    const name = match[1]!.toLowerCase();
    if (known.has(name)) found.add(name);
  }
  return [...found];
}

/** The tables a TypeScript file names through drizzle: the ones it imports from drizzle/schema.ts. */
function schemaImports(file: string, exported: ReadonlyMap<string, string>): string[] {
  const tree = ts.createSourceFile(file, source(file), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  for (const statement of tree.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (!statement.moduleSpecifier.text.endsWith('drizzle/schema.js')) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      const table = exported.get((element.propertyName ?? element.name).text);
      if (table) found.push(table);
    }
  }
  return found;
}

/** One file's SQL-level dependencies: the tables and SQL functions it touches. */
export interface SqlUse {
  file: string;
  tables: string[];
  functions: string[];
}

/** Every file with SQL: the function files, then server/**\/*.ts. */
export function sqlUses(): SqlUse[] {
  const exported = schemaTables();
  const tables = new Set(exported.values());
  const functions = new Set(functionFiles().map(functionName));
  const uses: SqlUse[] = [];
  for (const file of functionFiles()) {
    const text = source(file);
    const own = functionName(file);
    uses.push({
      file,
      tables: tablesIn(text, tables),
      functions: functionsIn(text, functions).filter((name) => name !== own),
    });
  }
  for (const file of serverFiles()) {
    const text = sqlFragments(file)
      .map((fragment) => fragment.text)
      .join('\n');
    const named = new Set([...tablesIn(text, tables), ...schemaImports(file, exported)]);
    uses.push({ file, tables: [...named].sort(), functions: functionsIn(text, functions) });
  }
  return uses.filter((use) => use.tables.length > 0 || use.functions.length > 0);
}

/** The unit a server file is in: its top folder under server/, or `root` for server/*.ts. */
export function unitOf(file: string): string {
  const parts = file.replace(/^server\//, '').split('/');
  return parts.length === 1 ? 'root' : parts[0]!;
}

/** For each unit, the features any of its files imports (through their index.ts). */
export function featureImports(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of serverFiles()) {
    const unit = unitOf(file);
    for (const target of relativeImports(file)) {
      const to = /^server\/([^/]+)\/index\.ts$/.exec(target)?.[1];
      if (to && to !== unit && (FEATURES as readonly string[]).includes(to)) {
        found.set(unit, (found.get(unit) ?? new Set()).add(to));
      }
    }
  }
  return found;
}
