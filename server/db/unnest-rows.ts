import { type Column, getTableColumns, getTableName, is, SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * The source of a bulk `insert into <table> select … from unnest(…)`, for drizzle's
 * `insert(table).select(…)`: the batch travels as ONE array parameter per column, whatever its
 * size. A multi-row VALUES list costs a parameter per cell to build, bind and parse, which is most
 * of ingest's client-side CPU at a few hundred rows per batch; this keeps the typed
 * `onConflict…`/`returning` of the query builder.
 *
 * Columns are emitted in table order (what `insert … select` requires). A column given in
 * `overrides` uses that expression; one that no row sets uses its default (or NULL); the others
 * are arrays of the rows' values mapped by the column itself. Array-typed columns are not
 * supported (unnest would flatten them) and throw.
 */
export function unnestRows<TTable extends PgTable>(
  table: TTable,
  rows: Partial<TTable['$inferInsert']>[],
  overrides: Partial<Record<keyof TTable['$inferInsert'], SQL>> = {},
): SQL {
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const arrays: SQL[] = [];
  const selected = columns.map(([key, column]) => {
    const override = overrides[key as keyof TTable['$inferInsert']];
    if (override) return override;
    const values = rows.map((row) => (row as Record<string, unknown>)[key]);
    if (values.every((value) => value === undefined)) return defaultOf(table, column);
    const type = column.getSQLType();
    if (type.endsWith(']')) throw new Error(`unnestRows: array column ${column.name} is not supported`);
    arrays.push(
      sql`${sql.param(values.map((value) => (value == null ? null : column.mapToDriverValue(value))))}::${sql.raw(type)}[]`,
    );
    return sql`${sql.identifier(`c${arrays.length}`)}`;
  });
  const names = arrays.map((_array, index) => sql.identifier(`c${index + 1}`));
  return sql`select ${sql.join(selected, sql`, `)} from unnest(${sql.join(arrays, sql`, `)}) as batch(${sql.join(names, sql`, `)})`;
}

/** Untyped literals in a select list would be read as text: every default carries its type. */
function defaultOf(table: PgTable, column: Column): SQL {
  const type = sql.raw(column.getSQLType());
  if (column.default !== undefined) {
    return is(column.default, SQL)
      ? sql`(${column.default})::${type}`
      : sql`${sql.param(column.mapToDriverValue(column.default))}::${type}`;
  }
  if (
    column.columnType === 'PgBigSerial53' ||
    column.columnType === 'PgBigSerial64' ||
    column.columnType === 'PgSerial'
  ) {
    return sql`nextval(pg_get_serial_sequence(${getTableName(table)}, ${column.name}))`;
  }
  return sql`null::${type}`;
}
