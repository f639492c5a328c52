import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS_FOLDER, MIGRATIONS_FOLDER } from '../../server/db/migrate.js';

/**
 * A hash of the committed migrations and SQL function files (both make a database's schema, see
 * applyMigrations): a template is reused only while neither has changed.
 */
export function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const folder of [MIGRATIONS_FOLDER, FUNCTIONS_FOLDER]) {
    for (const name of readdirSync(folder)
      .filter((file) => file.endsWith('.sql'))
      .sort()) {
      hash.update(join(folder === MIGRATIONS_FOLDER ? 'migrations' : 'functions', name));
      hash.update(readFileSync(join(folder, name)));
    }
  }
  return hash.digest('hex').slice(0, 12);
}

export const postgresTemplateName = () => `hookline_tpl_${migrationsHash()}`;

/** Test databases carry the creating process's pid so a later run can drop what a crash left. */
export const TEST_DATABASE_PREFIX = 'hl_t_';
