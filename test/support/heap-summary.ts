/**
 * What a V8 heap snapshot holds, by constructor: counts and bytes, and what grew between
 * two snapshots. A first look at a leak without opening DevTools.
 */
import { readFileSync } from 'node:fs';

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};

export type HeapCensus = Map<string, { count: number; bytes: number }>;

export function census(file: string): HeapCensus {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types = s.snapshot.meta.node_types[0];
  const out: HeapCensus = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    // Strings and code are named by their content: grouped by type, not one row per value.
    const name = type === 'object' || type === 'closure' ? `${s.strings[s.nodes[i + nameAt]!]} (${type})` : `(${type})`;
    const row = out.get(name) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += s.nodes[i + sizeAt]!;
    out.set(name, row);
  }
  return out;
}

/** The `top` rows that grew most in bytes from `before` to `after`. */
export function growth(before: HeapCensus, after: HeapCensus, top = 12): { name: string; count: number; bytes: number }[] {
  return [...after]
    .map(([name, a]) => ({ name, count: a.count - (before.get(name)?.count ?? 0), bytes: a.bytes - (before.get(name)?.bytes ?? 0) }))
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}
