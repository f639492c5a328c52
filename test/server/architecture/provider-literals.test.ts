import { describe, expect, it } from 'vitest';
import { serverFiles, stringLiterals } from './source-files.js';

/**
 * Provider specifics live under server/providers/<name>/ (docs/architecture.md): outside it, no
 * string literal names a provider, so a second provider is a new folder rather than edits across
 * the features. Environment variable names (`UNIPILE_DSN`, …) are exempt: they are the documented
 * configuration contract (docs/configuration.md), read once in server/config.ts, and messages may
 * name them to tell operators what to set.
 */
const PROVIDER_NAMES = /unipile/i;
const ENV_NAMES = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

function offending(file: string): string[] {
  return stringLiterals(file)
    .filter(({ text }) => PROVIDER_NAMES.test(text.replace(ENV_NAMES, '')))
    .map(({ text, line }) => `${file}:${line} ${JSON.stringify(text)}`);
}

describe('provider names outside server/providers/', () => {
  it('appear in no string literal', () => {
    const files = serverFiles().filter((file) => !file.startsWith('server/providers/'));
    expect(files.flatMap(offending)).toEqual([]);
  });

  it('finds provider names in literals of every kind, and only there', () => {
    const found = offending('test/server/architecture/fixtures/provider-literals.fixture.ts');
    expect(found.map((entry) => entry.split(' ')[0])).toEqual([
      'test/server/architecture/fixtures/provider-literals.fixture.ts:3',
      'test/server/architecture/fixtures/provider-literals.fixture.ts:4',
      'test/server/architecture/fixtures/provider-literals.fixture.ts:5',
    ]);
  });
});
