import { type Column, getTableColumns, getTableName, is, SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

const isJson = (column: Column) => column.getSQLType() === 'jsonb' || column.getSQLType() === 'json';

/** A bulk insert's source, and what its SQL text depends on. */
export interface Recordset {
  /**
   * `select … from json_to_recordset($1)`, for `insert(table).select(…)`, or as the body of a CTE
   * (`$with(alias, getTableColumns(table)).as(source)`): its columns carry the table's names.
   */
  source: SQL;
  /**
   * One letter per column (batch, default, override): with the statement's code, it determines
   * the generated SQL text, so `statement name + shape` can name a prepared statement (see
   * {@link preparedName}).
   */
  shape: string;
}

/**
 * A name for a hot-path statement built over a {@link Recordset}. Named statements are parsed
 * once per connection instead of once per batch (Postgres logs showed parsing and planning the
 * big upserts costing about as much as running them). node-postgres refuses a name reused with
 * a different text, so a mistake here fails loudly rather than running the wrong statement.
 */
export const preparedName = (statement: string, recordset: Recordset) =>
  `hookline_${statement}_${recordset.shape}`;

/**
 * The source of a bulk `insert into <table> select … from json_to_recordset($1)`, for drizzle's
 * `insert(table).select(…)`: the whole batch travels as ONE JSON parameter. A multi-row VALUES
 * list costs a parameter per cell to build, bind and parse; one array parameter per column still
 * costs a JSON.stringify per jsonb cell and pg's element-by-element array escaping, which was most
 * of ingest's client-side CPU. One native JSON.stringify of the batch replaces all of that, and
 * jsonb cells travel as nested JSON instead of strings inside strings. The query builder keeps
 * its typed `onConflict…`/`returning`.
 *
 * Columns are emitted in table order (what `insert … select` requires). A column given in
 * `overrides` uses that expression; one that no row sets uses its default (or NULL); the others
 * are read from the batch, mapped by the column itself (jsonb as is). Array-typed columns are not
 * supported and throw. Rows come out in batch order.
 */
export function recordsetRows<TTable extends PgTable>(
  table: TTable,
  rows: Partial<TTable['$inferInsert']>[],
  overrides: Partial<Record<keyof TTable['$inferInsert'], SQL>> = {},
): Recordset {
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const fromBatch: [string, Column][] = [];
  let shape = '';
  const columnValue = (key: string, column: Column): SQL => {
    const override = overrides[key as keyof TTable['$inferInsert']];
    if (override) {
      shape += 'o';
      return override;
    }
    if (rows.every((row) => (row as Record<string, unknown>)[key] === undefined)) {
      shape += 'd';
      return defaultOf(table, column);
    }
    shape += 'b';
    if (column.getSQLType().endsWith(']'))
      throw new Error(`recordsetRows: array column ${column.name} is not supported`);
    fromBatch.push([key, column]);
    return sql`${sql.identifier(`c${fromBatch.length}`)}`;
  };
  const selected = columns.map(
    ([key, column]) => sql`${columnValue(key, column)} as ${sql.identifier(column.name)}`,
  );
  const records = rows.map((row) => {
    const record: Record<string, unknown> = {};
    fromBatch.forEach(([key, column], index) => {
      const value = (row as Record<string, unknown>)[key];
      record[`c${index + 1}`] =
        value == null ? null : isJson(column) ? value : column.mapToDriverValue(value);
    });
    return record;
  });
  const definitions = fromBatch.map(
    ([, column], index) => sql`${sql.identifier(`c${index + 1}`)} ${sql.raw(column.getSQLType())}`,
  );
  return {
    source: sql`select ${sql.join(selected, sql`, `)} from json_to_recordset(${JSON.stringify(records)}::json) as batch(${sql.join(definitions, sql`, `)})`,
    shape,
  };
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
