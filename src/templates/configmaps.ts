import { createHash } from 'node:crypto';
import { asText, assertTreePath, sortedEntries, type FileTree } from './tree.ts';

/**
 * A rendered tree as ConfigMaps and back. Pure: the reconciler applies what `pack`
 * returns and `export` feeds what it reads to `unpack`.
 */

export const SCAFFOLD_PREFIX = 'scaffold-';
export const MANIFEST_NAME = 'scaffold-manifest';
export const MANIFEST_KEY = 'manifest.json';
/** On every scaffold ConfigMap, so a reconciler compares one annotation instead of every byte. */
export const CONTENT_HASH_ANNOTATION = 'startupfactory.dev/content-hash';
/** On the manifest: how many chunks (`scaffold-0`...) it lists, so a cache of metadata alone can tell the scaffold is whole. */
export const CHUNKS_ANNOTATION = 'startupfactory.dev/chunks';
export const SCAFFOLD_LABEL = 'startupfactory.dev/scaffold';

/**
 * The API server refuses a ConfigMap whose keys plus values exceed 1 MiB (binary counted
 * decoded). Chunks stop well short of that, leaving room for metadata and the per-entry
 * overhead of the stored object.
 */
export const CHUNK_BUDGET = 900 * 1024;
const ENTRY_OVERHEAD = 64;
const MAX_KEY_LENGTH = 253;

export type ConfigMap = {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
};

export type ManifestEntry = { path: string; size: number; sha256: string; configMap: string; key: string; binary: boolean };
export type Manifest = { version: 1; contentHash: string; configMaps: string[]; files: ManifestEntry[] };

/**
 * Path → key: ConfigMap keys allow only `[-._a-zA-Z0-9]`, so every other UTF-8 byte
 * (the `/` included, and `_` itself, which is the escape) becomes `_XX` in hex.
 * `app/page.tsx` → `app_2Fpage.tsx`. Reversible, and readable enough in `kubectl`.
 */
export function encodeKey(path: string): string {
  let key = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte);
    key += /[-.a-zA-Z0-9]/.test(c) ? c : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return key;
}

export function decodeKey(key: string): string {
  if (!/^(?:[-.a-zA-Z0-9]|_[0-9A-F]{2})+$/.test(key)) throw new Error(`"${key}" is not an encoded path`);
  const out: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '_') {
      out.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(key.charCodeAt(i));
    }
  }
  return Buffer.from(out).toString('utf8');
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Hash of the whole tree: paths and contents, order-independent. */
export function treeHash(tree: FileTree): string {
  return sha256(sortedEntries(tree).map(([path, bytes]) => `${path}\0${sha256(bytes)}\n`).join(''));
}

type PackOptions = { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; budget?: number };

/**
 * Tree → ConfigMaps `scaffold-0..n` (paths in sorted order, filled greedily up to the
 * budget, so the same tree always gives the same objects) plus `scaffold-manifest`
 * listing every file's chunk, key, size and sha256 and the content hash of the tree.
 */
export function packTree(tree: FileTree, options: PackOptions = {}): ConfigMap[] {
  const budget = options.budget ?? CHUNK_BUDGET;
  const contentHash = treeHash(tree);
  const chunks: { data: Record<string, string>; binaryData: Record<string, string>; size: number }[] = [];
  const files: ManifestEntry[] = [];
  for (const [path, content] of sortedEntries(tree)) {
    assertTreePath(path);
    const key = encodeKey(path);
    if (key.length > MAX_KEY_LENGTH) throw new Error(`file ${path}: path too long to store (its key would be ${key.length} characters, at most ${MAX_KEY_LENGTH})`);
    const size = key.length + content.length + ENTRY_OVERHEAD;
    if (size > budget) throw new Error(`file ${path}: ${content.length} bytes is more than one ConfigMap can hold`);
    let chunk = chunks.at(-1);
    if (!chunk || chunk.size + size > budget) {
      chunk = { data: {}, binaryData: {}, size: 0 };
      chunks.push(chunk);
    }
    const text = asText(content);
    if (text !== undefined) chunk.data[key] = text;
    else chunk.binaryData[key] = content.toString('base64');
    chunk.size += size;
    files.push({ path, size: content.length, sha256: sha256(content), configMap: `${SCAFFOLD_PREFIX}${chunks.length - 1}`, key, binary: text === undefined });
  }
  const metadata = (name: string): ConfigMap['metadata'] => ({
    name,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    labels: { ...options.labels, [SCAFFOLD_LABEL]: 'true' },
    annotations: { ...options.annotations, [CONTENT_HASH_ANNOTATION]: contentHash },
  });
  const configMaps: ConfigMap[] = chunks.map((chunk, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(`${SCAFFOLD_PREFIX}${i}`),
    ...(Object.keys(chunk.data).length > 0 ? { data: chunk.data } : {}),
    ...(Object.keys(chunk.binaryData).length > 0 ? { binaryData: chunk.binaryData } : {}),
  }));
  const manifest: Manifest = { version: 1, contentHash, configMaps: configMaps.map((c) => c.metadata.name), files };
  const manifestJson = JSON.stringify(manifest, null, 1);
  if (manifestJson.length > budget) throw new Error(`the tree has too many files (${files.length}) for one manifest ConfigMap`);
  const manifestMetadata = metadata(MANIFEST_NAME);
  manifestMetadata.annotations = { ...manifestMetadata.annotations, [CHUNKS_ANNOTATION]: String(configMaps.length) };
  return [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: manifestMetadata, data: { [MANIFEST_KEY]: manifestJson } }, ...configMaps];
}

export function readManifest(configMap: Pick<ConfigMap, 'data'>): Manifest {
  const raw = configMap.data?.[MANIFEST_KEY];
  if (raw === undefined) throw new Error(`ConfigMap ${MANIFEST_NAME} has no ${MANIFEST_KEY}`);
  const manifest = JSON.parse(raw) as Manifest;
  if (manifest.version !== 1 || !Array.isArray(manifest.files)) throw new Error(`ConfigMap ${MANIFEST_NAME} holds an unknown manifest version`);
  return manifest;
}

/**
 * ConfigMaps → tree, the exact inverse of packTree. Every file is checked against the
 * manifest's size and sha256, and every path against escaping the tree: the objects
 * come from a cluster and are data to verify, not to trust.
 */
export function unpackConfigMaps(configMaps: readonly Pick<ConfigMap, 'metadata' | 'data' | 'binaryData'>[]): FileTree {
  const byName = new Map(configMaps.map((c) => [c.metadata.name, c]));
  const manifestMap = byName.get(MANIFEST_NAME);
  if (!manifestMap) throw new Error(`ConfigMap ${MANIFEST_NAME} not found`);
  const manifest = readManifest(manifestMap);
  const tree: FileTree = new Map();
  for (const entry of manifest.files) {
    assertTreePath(entry.path);
    if (decodeKey(entry.key) !== entry.path) throw new Error(`manifest entry ${entry.path}: key ${entry.key} does not encode its path`);
    const holder = byName.get(entry.configMap);
    if (!holder) throw new Error(`ConfigMap ${entry.configMap} (holding ${entry.path}) not found`);
    const text = entry.binary ? undefined : holder.data?.[entry.key];
    const binary = entry.binary ? holder.binaryData?.[entry.key] : undefined;
    if (text === undefined && binary === undefined) throw new Error(`ConfigMap ${entry.configMap} has no key ${entry.key} for ${entry.path}`);
    const content = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(binary ?? '', 'base64');
    if (content.length !== entry.size || sha256(content) !== entry.sha256) {
      throw new Error(`file ${entry.path} in ConfigMap ${entry.configMap} does not match the manifest (size or sha256)`);
    }
    tree.set(entry.path, content);
  }
  if (treeHash(tree) !== manifest.contentHash) throw new Error('the scaffold does not match its manifest\'s content hash');
  return tree;
}
