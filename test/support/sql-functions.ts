import { functionFiles } from '../../server/db/migrate.js';

/** One function file of drizzle/functions, taken apart. */
export interface FunctionSource {
  /** The file's name without `.sql`, which must be the function's. */
  file: string;
  /** The name in its CREATE statement. */
  name: string;
  /** The parameter list, as written. */
  parameters: string;
  /** What follows RETURNS, as written. */
  returns: string;
  /** The text between the dollar quotes: what Postgres stores as `prosrc`. */
  body: string;
}

const CREATE =
  /CREATE OR REPLACE FUNCTION\s+(\w+)\s*\(([\s\S]*?)\)\s*RETURNS\s+([\s\S]*?)\s+LANGUAGE\s[\s\S]*?AS \$\$([\s\S]*)\$\$;\s*$/;

/** Every function file, parsed; throws on a file that is not one CREATE OR REPLACE FUNCTION. */
export async function functionSources(): Promise<FunctionSource[]> {
  return (await functionFiles()).map(({ name: file, text }) => {
    const match = CREATE.exec(text);
    if (!match) throw new Error(`drizzle/functions/${file}.sql is not one CREATE OR REPLACE FUNCTION`);
    const [, name, parameters, returns, body] = match as unknown as [string, string, string, string, string];
    return { file, name, parameters, returns, body };
  });
}

/** A type or signature as Postgres prints it: one space between words, none inside parentheses. */
export function normalizeSql(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*\)/g, ')')
    .replace(/\btimestamptz\b/g, 'timestamp with time zone')
    .trim()
    .toLowerCase();
}

/** A `json_to_recordset(<parameter>) AS alias(<columns>)` of a function, its columns as [name, type]. */
export interface RecordsetUse {
  function: string;
  parameter: string;
  columns: [string, string][];
}

/** Every `json_to_recordset` of every function file, with the columns it reads. */
export async function recordsetUses(): Promise<RecordsetUse[]> {
  const uses: RecordsetUse[] = [];
  for (const source of await functionSources()) {
    for (const match of source.body.matchAll(/json_to_recordset\((\w+)\)\s+AS\s+\w+\(([^)]*)\)/g)) {
      const columns = (match[2] ?? '').split(',').map((column) => {
        const [name, ...type] = column.trim().split(/\s+/);
        return [name ?? '', normalizeSql(type.join(' '))] as [string, string];
      });
      uses.push({ function: source.name, parameter: match[1] ?? '', columns });
    }
  }
  return uses;
}
