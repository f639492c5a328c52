import { describe, expect, it } from 'vitest';
import { FEATURES, relativeImports, serverFiles } from './source-files.js';

/**
 * The layering of server/ (docs/architecture.md), bottom up:
 *   1. base: root contracts (errors, config, app-limits), shared/ helpers, db/, and the http/,
 *      openapi/ and tunnel/ plumbing;
 *   2. providers/: the provider-neutral contract (providers/*.ts), the registry of providers
 *      (providers/index.ts) and one folder per provider, reached through its index.ts;
 *   3. events/: what subscribers and sockets receive;
 *   4. features, each reached by another only through its entry file, `<feature>/index.ts`;
 *   5. app.ts and main.ts, which wire everything.
 * A unit may import only the units listed for it here. A new folder fails until it is listed.
 */
const BASE: Record<string, readonly string[]> = {
  errors: [],
  'app-limits': [],
  shared: ['errors'],
  config: ['errors', 'shared'],
  db: ['errors', 'shared', 'config'],
  http: ['errors', 'shared', 'config', 'db'],
  openapi: ['errors', 'shared', 'http'],
  tunnel: ['errors', 'shared'],
};
const PROVIDERS: readonly string[] = ['errors', 'shared', 'config', 'tunnel'];
const EVENTS: readonly string[] = ['errors', 'shared', 'db', 'providers'];
const BELOW_FEATURES = [...Object.keys(BASE), 'providers', 'events'];

/** Root files and the unit each belongs to. */
const ROOT_FILES: Record<string, string> = {
  'errors.ts': 'errors',
  'app-limits.ts': 'app-limits',
  'config.ts': 'config',
  'config-fields.ts': 'config',
  'secrets.ts': 'config',
  'app.ts': 'app',
  'main.ts': 'app',
};

const UNITS = new Set([...BELOW_FEATURES, ...FEATURES, 'app']);

/** The unit a server file belongs to (its top folder, or its ROOT_FILES entry); undefined if unlisted. */
function unitOf(file: string): string | undefined {
  const parts = file.replace(/^server\//, '').split('/');
  const unit = parts.length === 1 ? ROOT_FILES[parts[0]!] : parts[0];
  return unit !== undefined && UNITS.has(unit) ? unit : undefined;
}

function allowedUnits(unit: string): readonly string[] | undefined {
  if (unit in BASE) return BASE[unit];
  if (unit === 'providers') return PROVIDERS;
  if (unit === 'events') return EVENTS;
  if ((FEATURES as readonly string[]).includes(unit)) return [...BELOW_FEATURES, ...FEATURES];
  return undefined;
}

/** Why an import of `target` from `file` breaks the layering, or undefined when it does not. */
function violation(file: string, target: string): string | undefined {
  const from = unitOf(file);
  if (from === undefined) return `${file} is in no layer: list it in layers.test.ts`;
  if (!target.startsWith('server/')) {
    // The tables: db/ and the features whose queries live with them (docs/database.md).
    const queries = from === 'db' || (FEATURES as readonly string[]).includes(from);
    return queries && target === 'drizzle/schema.ts' ? undefined : `server code imports ${target}`;
  }
  const to = unitOf(target);
  if (to === undefined) return `${target} is in no layer: list it in layers.test.ts`;
  if (from === 'app') return undefined;
  if (to === 'app') return `${file} imports the app (${target})`;
  if (from === to) {
    // Inside providers/, the neutral contract must not depend on any one provider (only the
    // registry, providers/index.ts, lists them).
    const contract = /^server\/providers\/(?!index\.ts$)[^/]+\.ts$/;
    return contract.test(file) && !contract.test(target) ? `${file} (contract) imports ${target}` : undefined;
  }
  const allowed = allowedUnits(from);
  if (!allowed?.includes(to)) return `${from} may not import ${to} (${file} → ${target})`;
  if (
    to === 'providers' &&
    from !== 'events' &&
    !/^server\/providers\/([^/]+\.ts|[^/]+\/index\.ts)$/.test(target)
  ) {
    return `${file} reaches into a provider: import ${target.split('/').slice(0, 3).join('/')}/index.ts`;
  }
  if (to === 'providers' && from === 'events' && !/^server\/providers\/[^/]+\.ts$/.test(target)) {
    return `events/ depends on one provider (${target}): use the neutral contract`;
  }
  if (
    (to === 'events' || (FEATURES as readonly string[]).includes(to)) &&
    target !== `server/${to}/index.ts`
  ) {
    return `${file} reaches into ${to}'s internals (${target}): import server/${to}/index.ts`;
  }
  return undefined;
}

/** Feature → feature edges, to check that calls between features run one way. */
function featureCycles(edges: Map<string, Set<string>>): string[] {
  const cycles: string[] = [];
  const visit = (unit: string, trail: string[]) => {
    for (const next of edges.get(unit) ?? []) {
      if (trail.includes(next)) cycles.push([...trail.slice(trail.indexOf(next)), next].join(' → '));
      else visit(next, [...trail, next]);
    }
  };
  for (const unit of edges.keys()) visit(unit, [unit]);
  return [...new Set(cycles)];
}

describe('server layering', () => {
  const imports = serverFiles().flatMap((file) => relativeImports(file).map((target) => ({ file, target })));

  it('reads the imports of every server file', () => {
    expect(imports.length).toBeGreaterThan(300);
  });

  it('imports only downwards, and other features only through their entry files', () => {
    const found = imports.map(({ file, target }) => violation(file, target)).filter(Boolean);
    expect(found).toEqual([]);
  });

  it('has no cycle between features', () => {
    const edges = new Map<string, Set<string>>();
    for (const { file, target } of imports) {
      const from = unitOf(file);
      const to = unitOf(target);
      if (!from || !to || from === to || !(FEATURES as readonly string[]).includes(from)) continue;
      if (!(FEATURES as readonly string[]).includes(to)) continue;
      edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
    expect(featureCycles(edges)).toEqual([]);
  });

  it('rejects the kinds of import it exists to catch', () => {
    expect(violation('server/db/listener.ts', 'client/backoff.ts')).toMatch(/imports client/);
    expect(violation('server/shared/ids.ts', 'server/db/transaction.ts')).toMatch(/shared may not import db/);
    expect(violation('server/providers/unipile/reconcile.ts', 'server/ingest/index.ts')).toMatch(
      /providers may not import ingest/,
    );
    expect(violation('server/chats/views.ts', 'server/send/settle.ts')).toMatch(/internals/);
    expect(violation('server/sync/engine.ts', 'server/providers/unipile/client.ts')).toMatch(/reaches into/);
    expect(violation('server/providers/events.ts', 'server/providers/unipile/normalize.ts')).toMatch(
      /contract/,
    );
    expect(violation('server/newthing/x.ts', 'server/errors.ts')).toMatch(/no layer/);
    expect(violation('server/chats/views.ts', 'server/events/index.ts')).toBeUndefined();
    expect(violation('server/events/data.ts', 'drizzle/schema.ts')).toMatch(/imports drizzle/);
    expect(violation('server/outbound/queries/endpoints.ts', 'drizzle/schema.ts')).toBeUndefined();
    const mutual = new Map([
      ['ingest', new Set(['send'])],
      ['send', new Set(['ingest'])],
    ]);
    expect(featureCycles(mutual)).toContain('ingest → send → ingest');
  });
});
