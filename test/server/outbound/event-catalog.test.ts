import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../server/outbound/event-catalog.js';

/** The consumer guide shows one example per event type; it must be the catalog's, verbatim. */
describe('docs/webhooks.md and the event catalog', () => {
  const guide = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');

  it.each(EVENT_TYPES.map((entry) => [entry.type, entry] as const))(
    'shows the catalog example of %s',
    (type, entry) => {
      const section = guide.indexOf(`#### \`${type}\``);
      expect(section, `a section for ${type}`).toBeGreaterThan(-1);
      const start = guide.indexOf('```json\n', section) + '```json\n'.length;
      const example = JSON.parse(guide.slice(start, guide.indexOf('\n```', start)));
      expect(example).toEqual(entry.example);
    },
  );
});
