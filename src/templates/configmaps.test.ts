import { describe, expect, it } from 'vitest';
import {
  CHUNK_BUDGET, CONTENT_HASH_ANNOTATION, MANIFEST_NAME, decodeKey, encodeKey, packTree, readManifest, treeHash, unpackConfigMaps,
  type ConfigMap,
} from './configmaps.ts';
import type { FileTree } from './tree.ts';

/** Small deterministic PRNG (mulberry32) so every property run is reproducible from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}

const SEGMENT_CHARS = [...'abcXYZ019-._ ~+@()[]{}#%&=,', 'é', 'ß', '日本', '🚀'];

function randomTree(seed: number): FileTree {
  const r = prng(seed);
  const tree: FileTree = new Map();
  const files = 1 + r.int(40);
  for (let i = 0; i < files; i++) {
    const depth = 1 + r.int(4);
    const segments = Array.from({ length: depth }, () => {
      const s = Array.from({ length: 1 + r.int(10) }, () => r.pick(SEGMENT_CHARS)).join('');
      return s === '.' || s === '..' ? `${s}x` : s;
    });
    const kind = r.int(4);
    const size = r.int(kind === 3 ? 190_000 : 3000);
    let content: Buffer;
    if (kind === 0) content = Buffer.from(Array.from({ length: size }, () => r.int(256)));
    else if (kind === 1) content = Buffer.from(Array.from({ length: size }, () => r.pick(['a', '\n', '{{ x }}', 'é', '\u{1F680}', '\r\n', '\t'])).join(''), 'utf8');
    else if (kind === 2) content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('with a BOM', 'utf8')]);
    else content = Buffer.alloc(size, 'x');
    tree.set(segments.join('/'), content);
  }
  return tree;
}

function expectSameTree(actual: FileTree, expected: FileTree) {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [path, bytes] of expected) expect(actual.get(path)?.equals(bytes), path).toBe(true);
}

/** What the API server would count against its 1 MiB limit: keys plus values, binary decoded. */
function apiSize(cm: ConfigMap): number {
  let size = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) size += k.length + Buffer.byteLength(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) size += k.length + Buffer.from(v, 'base64').length;
  return size;
}

describe('key encoding', () => {
  it('maps paths to valid ConfigMap keys and back', () => {
    for (const path of ['app/page.tsx', 'snake_case/file_name.py', '.env.example', 'a b/ü/🚀.txt', '_/__/x_2F']) {
      const key = encodeKey(path);
      expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
      expect(decodeKey(key)).toBe(path);
    }
    expect(encodeKey('frontend/app/page.tsx')).toBe('frontend_2Fapp_2Fpage.tsx');
  });

  it('is injective over random paths', () => {
    const r = prng(7);
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const path = Array.from({ length: 1 + r.int(12) }, () => r.pick([...SEGMENT_CHARS, '/', '_'])).join('');
      const key = encodeKey(path);
      expect(decodeKey(key)).toBe(path);
      const other = seen.get(key);
      if (other !== undefined) expect(other).toBe(path);
      seen.set(key, path);
    }
  });

  it('refuses keys that are not encodings', () => {
    expect(() => decodeKey('a/b')).toThrow();
    expect(() => decodeKey('a_2')).toThrow();
    expect(() => decodeKey('a_zz')).toThrow();
  });
});

describe('packing a tree into ConfigMaps', () => {
  it.each(Array.from({ length: 25 }, (_, i) => i + 1))('round-trips a random tree exactly (seed %i)', (seed) => {
    const tree = randomTree(seed);
    const configMaps = packTree(tree, { budget: 200 * 1024 + seed * 4096 });
    expectSameTree(unpackConfigMaps(configMaps), tree);
  });

  it('puts text in data and binary in binaryData, under the budget, with deterministic names', () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const tree: FileTree = new Map([['icon.png', png], ['README.md', Buffer.from('# hi\n')]]);
    for (let i = 0; i < 30; i++) tree.set(`src/big-${String(i).padStart(2, '0')}.txt`, Buffer.alloc(100_000, 'a'));
    const configMaps = packTree(tree, { namespace: 'startup-acme', labels: { 'app.kubernetes.io/managed-by': 'startup-factory' } });
    expect(configMaps.map((c) => c.metadata.name)).toEqual([MANIFEST_NAME, 'scaffold-0', 'scaffold-1', 'scaffold-2', 'scaffold-3']);
    for (const cm of configMaps) {
      expect(apiSize(cm)).toBeLessThanOrEqual(CHUNK_BUDGET);
      expect(cm.metadata.namespace).toBe('startup-acme');
      expect(cm.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('startup-factory');
      expect(cm.metadata.annotations?.[CONTENT_HASH_ANNOTATION]).toBe(treeHash(tree));
      for (const key of [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})]) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    }
    const holder = configMaps.find((c) => c.binaryData?.['icon.png']);
    expect(Buffer.from(holder?.binaryData?.['icon.png'] ?? '', 'base64').equals(png)).toBe(true);
    expect(configMaps.some((c) => c.data?.['icon.png'] !== undefined)).toBe(false);
    const manifest = readManifest(configMaps[0] as ConfigMap);
    expect(manifest.files.find((f) => f.path === 'icon.png')).toMatchObject({ binary: true, size: png.length });
    expect(manifest.configMaps).toEqual(['scaffold-0', 'scaffold-1', 'scaffold-2', 'scaffold-3']);
    expectSameTree(unpackConfigMaps(configMaps), tree);
    expect(packTree(new Map([...tree].reverse()))).toEqual(packTree(tree));
  });

  it('changes the content hash when any byte or path changes, and only then', () => {
    const tree: FileTree = new Map([['a', Buffer.from('1')], ['b/c', Buffer.from('2')]]);
    expect(treeHash(new Map([['b/c', Buffer.from('2')], ['a', Buffer.from('1')]]))).toBe(treeHash(tree));
    expect(treeHash(new Map([['a', Buffer.from('1')], ['b/c', Buffer.from('3')]]))).not.toBe(treeHash(tree));
    expect(treeHash(new Map([['a', Buffer.from('1')], ['b/d', Buffer.from('2')]]))).not.toBe(treeHash(tree));
  });

  it('refuses a file larger than one ConfigMap can hold', () => {
    expect(() => packTree(new Map([['huge.bin', Buffer.alloc(CHUNK_BUDGET)]]))).toThrow(/huge\.bin/);
  });

  it('packs an empty tree as a manifest alone', () => {
    const configMaps = packTree(new Map());
    expect(configMaps).toHaveLength(1);
    expect(unpackConfigMaps(configMaps).size).toBe(0);
  });
});

describe('unpacking what a cluster returns', () => {
  const tree: FileTree = new Map([['README.md', Buffer.from('# hello\n')], ['bin/x', Buffer.from([0, 1, 2])]]);

  it('detects tampered content, missing chunks and paths that escape', () => {
    const configMaps = packTree(tree);
    const tampered = structuredClone(configMaps);
    (tampered[1] as ConfigMap).data = { 'README.md': '# evil\n' };
    expect(() => unpackConfigMaps(tampered)).toThrow(/does not match the manifest/);
    expect(() => unpackConfigMaps(configMaps.slice(0, 1))).toThrow(/scaffold-0.*not found/);
    expect(() => unpackConfigMaps(configMaps.slice(1))).toThrow(/scaffold-manifest not found/);

    const escaping = structuredClone(configMaps);
    const manifest = readManifest(escaping[0] as ConfigMap);
    (manifest.files[0] as { path: string }).path = '../../etc/passwd';
    (escaping[0] as ConfigMap).data = { 'manifest.json': JSON.stringify(manifest) };
    expect(() => unpackConfigMaps(escaping)).toThrow(/\.\./);
  });
});
