import { describe, expect, it } from 'vitest';
import { relativeImports, serverFiles } from './source-files.js';

/**
 * Imports run one way (docs/architecture.md): no server file reaches itself through the files it
 * imports. layers.test.ts checks the direction between units; this checks single files, where a
 * loop inside one unit (or one the unit map misses) would hide.
 */

/** Every import circle of a graph, each once, as `a → b → … → a` starting at its smallest file. */
function importCircles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const circles = new Set<string>();
  const done = new Set<string>();
  const trail: string[] = [];
  const onTrail = new Set<string>();
  const visit = (file: string): void => {
    trail.push(file);
    onTrail.add(file);
    for (const next of edges.get(file) ?? []) {
      if (onTrail.has(next)) {
        const loop = trail.slice(trail.indexOf(next));
        const first = loop.indexOf([...loop].sort()[0]!);
        const turned = [...loop.slice(first), ...loop.slice(0, first)];
        circles.add([...turned, turned[0]].join(' → '));
      } else if (!done.has(next)) visit(next);
    }
    trail.pop();
    onTrail.delete(file);
    done.add(file);
  };
  for (const file of [...edges.keys()].sort()) if (!done.has(file)) visit(file);
  return [...circles].sort();
}

describe('server imports', () => {
  it('form no circle', () => {
    const edges = new Map(serverFiles().map((file) => [file, relativeImports(file)]));
    expect(importCircles(edges)).toEqual([]);
  });

  it('names the circle it finds', () => {
    const edges = new Map([
      ['server/config.ts', ['server/http/trust-proxy.ts']],
      ['server/http/trust-proxy.ts', ['server/shared/x.ts', 'server/config.ts']],
      ['server/shared/x.ts', []],
    ]);
    expect(importCircles(edges)).toEqual([
      'server/config.ts → server/http/trust-proxy.ts → server/config.ts',
    ]);
    expect(importCircles(new Map([['server/a.ts', ['server/a.ts']]]))).toEqual(['server/a.ts → server/a.ts']);
  });
});
