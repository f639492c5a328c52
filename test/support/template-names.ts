import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER } from '../../server/db/migrate.js';

/** A hash of the committed migrations: a template is reused only while the schema is unchanged. */
export function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS_FOLDER)
    .filter((file) => file.endsWith('.sql'))
    .sort()) {
    hash.update(name).update(readFileSync(join(MIGRATIONS_FOLDER, name)));
  }
  return hash.digest('hex').slice(0, 12);
}

export const postgresTemplateName = () => `hookline_tpl_${migrationsHash()}`;

/** Test databases carry the creating process's pid so a later run can drop what a crash left. */
export const TEST_DATABASE_PREFIX = 'hl_t_';
