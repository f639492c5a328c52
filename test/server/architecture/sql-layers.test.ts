import { describe, expect, it } from 'vitest';
import { functionFiles } from '../../../tools/sql-text.js';
import { FEATURES } from './source-files.js';
import {
  featureImports,
  functionName,
  functionOwner,
  schemaTables,
  sqlUses,
  TABLE_OWNERS,
  tablesIn,
  unitOf,
} from './sql-tables.js';

/**
 * Layering holds at the SQL level too (docs/architecture.md, "Tables and their owners"): a file
 * whose SQL touches a table, or calls a SQL function, depends on the feature that owns it, and
 * that dependency must show as an import. A feature's files may touch its own tables and those
 * of the features it imports (through their index.ts); a unit below the features (db/, events/,
 * shared/) may touch no feature's table. A SQL function file belongs to the feature named in its
 * `-- owner: <feature>` header.
 */

const isFeature = (unit: string | undefined) => (FEATURES as readonly string[]).includes(unit ?? '');
/** An owner of tables: a feature, or db/ for the conversation store every feature shares. */
const isOwner = (unit: string | undefined) => unit === 'db' || isFeature(unit);

/** Each SQL-level dependency that no import backs, as `file: table` or `file: function()`. */
function crossings(): string[] {
  const imports = featureImports();
  const functionOwners = new Map(functionFiles().map((file) => [functionName(file), functionOwner(file)]));
  const found: string[] = [];
  for (const use of sqlUses()) {
    const unit = use.file.startsWith('drizzle/') ? functionOwner(use.file) : unitOf(use.file);
    // Every feature may touch the store db/ owns; db/ itself touches nothing of a feature's.
    const allowed = isFeature(unit)
      ? new Set([unit!, 'db', ...(imports.get(unit!) ?? [])])
      : new Set(unit === 'db' ? ['db'] : []);
    for (const table of use.tables) {
      if (!allowed.has(TABLE_OWNERS[table] ?? '')) found.push(`${use.file}: ${table}`);
    }
    for (const name of use.functions) {
      if (!allowed.has(functionOwners.get(name) ?? '')) found.push(`${use.file}: ${name}()`);
    }
  }
  return found.sort();
}

describe('SQL-level layering', () => {
  it('gives every table of drizzle/schema.ts an owning feature', () => {
    const tables = [...schemaTables().values()];
    expect(tables.length).toBeGreaterThan(10);
    expect(tables.filter((table) => !(table in TABLE_OWNERS))).toEqual([]);
    expect(Object.keys(TABLE_OWNERS).filter((table) => !tables.includes(table))).toEqual([]);
    expect(Object.values(TABLE_OWNERS).filter((owner) => !isOwner(owner))).toEqual([]);
  });

  it('gives every SQL function file an owner: a feature or db, in its `-- owner:` header', () => {
    const unowned = functionFiles().filter((file) => !isOwner(functionOwner(file)));
    expect(unowned).toEqual([]);
  });

  it('touches only tables and functions of the file’s own feature, of features it imports, or of db', () => {
    expect(crossings()).toEqual([]);
  });

  it('reads tables from the statements that name them, not from comments or columns', () => {
    const known = new Set(['messages', 'chats', 'deliveries', 'endpoints']);
    const sql = `-- reads deliveries
      INSERT INTO messages AS m (chat_id) SELECT c.id FROM chats c JOIN endpoints e ON true
      ON CONFLICT (id) DO UPDATE SET chat_id = excluded.chat_id`;
    expect(tablesIn(sql, known).sort()).toEqual(['chats', 'endpoints', 'messages']);
  });
});
