import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

/** The command the image runs, from the Containerfile's last `CMD [...]` (exec form). */
function imageCommand(): string[] {
  const commands = [...readFileSync(new URL('Containerfile', root), 'utf8').matchAll(/^CMD (\[.*\])$/gm)];
  const last = commands.at(-1);
  if (!last) throw new Error('the Containerfile has no CMD in exec form');
  return JSON.parse(last[1]!) as string[];
}

describe('the Containerfile', () => {
  it('starts the gateway as npm run start:dist does, V8 options included', () => {
    const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(imageCommand()).toEqual(manifest.scripts['start:dist']!.split(/\s+/));
  });
});
