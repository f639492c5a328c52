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
 * The feature that owns each table of drizzle/schema.ts. The conversation store (accounts, chats,
 * messages) is the chats feature's: ingest, send, sync and read-status all write it, and chats
 * imports none of them, so they can all reach it without a loop.
 */
export const TABLE_OWNERS: Record<string, (typeof FEATURES)[number]> = {
  inbound_events: 'ingest',
  accounts: 'chats',
  chats: 'chats',
  messages: 'chats',
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

/**
 * Today's SQL-level dependencies that break the rule, as `file: table-or-function`: queries still
 * in server/db/ (which may touch no feature's table: it keeps connection, migrations and
 * transactions), and the one-statement ingest and send functions that publish to `endpoints`,
 * `deliveries` and `realtime_events` themselves. Issue #32's branches remove them; empty the
 * list as they merge (the test fails on an entry that no longer happens).
 */
export const SQL_CROSSINGS_BEING_REMOVED: readonly string[] = [
  'drizzle/functions/hookline_apply_received.sql: accounts',
  'drizzle/functions/hookline_apply_received.sql: chats',
  'drizzle/functions/hookline_apply_received.sql: messages',
  'drizzle/functions/hookline_ingest_received.sql: endpoints',
  'drizzle/functions/hookline_ingest_received.sql: hookline_outbound_rows()',
  'drizzle/functions/hookline_ingest_received.sql: hookline_publish_envelopes()',
  'drizzle/functions/hookline_publish_envelopes.sql: realtime_events',
  'drizzle/functions/hookline_settle_sent.sql: chats',
  'drizzle/functions/hookline_settle_sent.sql: endpoints',
  'drizzle/functions/hookline_settle_sent.sql: hookline_new_message_data()',
  'drizzle/functions/hookline_settle_sent.sql: hookline_outbound_rows()',
  'drizzle/functions/hookline_settle_sent.sql: hookline_publish_envelopes()',
  'drizzle/functions/hookline_settle_sent.sql: messages',
  'drizzle/functions/hookline_store_sends.sql: chats',
  'drizzle/functions/hookline_store_sends.sql: hookline_message_preview()',
  'drizzle/functions/hookline_store_sends.sql: hookline_new_message_data()',
  'drizzle/functions/hookline_store_sends.sql: hookline_publish_envelopes()',
  'drizzle/functions/hookline_store_sends.sql: messages',
  'server/db/account-list.ts: accounts',
  'server/db/accounts.ts: accounts',
  'server/db/chats.ts: chats',
  'server/db/deliveries.ts: deliveries',
  'server/db/deliveries.ts: delivery_attempts',
  'server/db/deliveries.ts: endpoints',
  'server/db/deliveries.ts: outbound_pauses',
  'server/db/delivery-attempts.ts: deliveries',
  'server/db/delivery-attempts.ts: delivery_attempts',
  'server/db/delivery-reports.ts: deliveries',
  'server/db/delivery-reports.ts: delivery_attempts',
  'server/db/endpoints.ts: endpoints',
  'server/db/ingest-messages.ts: hookline_ingest_received()',
  'server/db/messages.ts: messages',
  'server/db/outbound-controls.ts: deliveries',
  'server/db/outbound-controls.ts: endpoints',
  'server/db/outbound-controls.ts: outbound_pauses',
  'server/db/outbound-stats.ts: deliveries',
  'server/db/outbound-stats.ts: endpoints',
  'server/db/outboxes.ts: hookline_publish_envelopes()',
  'server/db/read-marks.ts: read_marks',
  'server/db/realtime-reads.ts: realtime_events',
  'server/db/realtime-sessions.ts: login_codes',
  'server/db/realtime-sessions.ts: realtime_sessions',
  'server/db/search.ts: chats',
  'server/db/search.ts: messages',
  'server/db/send-attachments.ts: send_attachments',
  'server/db/send-batches.ts: chats',
  'server/db/send-batches.ts: hookline_settle_sent()',
  'server/db/send-batches.ts: hookline_store_sends()',
  'server/db/send-batches.ts: send_requests',
  'server/db/send-batches.ts: sends',
  'server/db/send-budgets.ts: chats',
  'server/db/send-budgets.ts: send_budgets',
  'server/db/send-budgets.ts: send_requests',
  'server/db/send-budgets.ts: sends',
  'server/db/sends.ts: messages',
  'server/db/sends.ts: send_attachments',
  'server/db/sends.ts: send_requests',
  'server/db/sends.ts: sends',
  'server/db/sync.ts: chats',
  'server/db/sync.ts: messages',
  'server/db/sync.ts: sync_accounts',
  'server/db/sync.ts: sync_runs',
];

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
