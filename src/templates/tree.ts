/**
 * A rendered project: relative POSIX paths to exact bytes. Bytes, not strings, so that
 * binary files and unusual encodings survive every hop (render, ConfigMaps, export).
 */
export type FileTree = Map<string, Buffer>;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Text is what can travel as a ConfigMap `data` string and come back byte for byte:
 * valid UTF-8 (the BOM kept, not swallowed) with no NUL. Everything else is binary.
 */
export function asText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Entries in code-point order of their paths: the one order every hash and listing uses. */
export function sortedEntries(tree: FileTree): [string, Buffer][] {
  return [...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A path as it may appear in a tree: relative, `/`-separated, no empty, `.` or `..`
 * segments, no backslashes or control characters. Anything else could land outside the
 * output directory (or somewhere surprising inside it) when the tree is written out.
 */
export function checkTreePath(path: string): string | undefined {
  if (path.length === 0) return 'path is empty';
  if (path.length > 1024) return 'path is longer than 1024 characters';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'path is absolute';
  if (path.includes('\\')) return 'path contains a backslash';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'path contains a control character';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'path contains ".."';
    if (segment === '' || segment === '.') return 'path has an empty or "." segment';
  }
  return undefined;
}

export function assertTreePath(path: string, what = 'file'): void {
  const problem = checkTreePath(path);
  if (problem) throw new Error(`${what} ${JSON.stringify(path)}: ${problem}`);
}
