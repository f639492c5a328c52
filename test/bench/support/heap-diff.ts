import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `tsx test/bench/support/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--per 10000] [--top 40]`
 *
 * What a server keeps alive per connection: the objects in AFTER but not in BEFORE, summed by
 * kind and constructor (V8's node type and name), largest first, in bytes and objects per
 * connection (`--per`, the number of connections added between the two). Snapshots come from
 * `npm run bench:fanout -- --heap-snapshots DIR`, taken after garbage collection.
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Group {
  count: number;
  bytes: number;
}

/** Self size and count by `type name`; a name that is a string's content is reduced to its type. */
function groups(path: string): Map<string, Group> {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const result = new Map<string, Group>();
  for (let index = 0; index < heap.nodes.length; index += width) {
    const type = types[heap.nodes[index + typeAt] ?? 0] ?? '?';
    const rawName = heap.strings[heap.nodes[index + nameAt] ?? 0] ?? '';
    const named = type !== 'string' && type !== 'concatenated string' && type !== 'sliced string';
    const key = named ? `${type} ${rawName.slice(0, 60)}` : type;
    const group = result.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += heap.nodes[index + sizeAt] ?? 0;
    result.set(key, group);
  }
  return result;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { per: { type: 'string', default: '10000' }, top: { type: 'string', default: '40' } },
  });
  const [beforePath, afterPath] = positionals;
  if (!beforePath || !afterPath) throw new Error('usage: heap-diff.ts BEFORE AFTER [--per N] [--top N]');
  const per = Number(values.per);
  const before = groups(beforePath);
  const after = groups(afterPath);
  const rows = [...after].map(([key, group]) => {
    const old = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, bytes: group.bytes - old.bytes, count: group.count - old.count };
  });
  rows.sort((a, b) => b.bytes - a.bytes);
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  console.log(`total ${total} bytes, ${(total / per).toFixed(0)} per connection (${per})`);
  console.table(
    rows.slice(0, Number(values.top)).map((row) => ({
      'type and constructor': row.key,
      'bytes per connection': Math.round(row.bytes / per),
      'objects per connection': (row.count / per).toFixed(2),
    })),
  );
}

main();
